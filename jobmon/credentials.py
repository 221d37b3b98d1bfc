"""Jobmon's credentials in an environment, which no task's command may inherit (pure).

Apart from jobmon.settings so that a `jobmon worker`, which starts a fresh interpreter for
every cluster job, applies this rule without loading the configuration machinery.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

CONFIG_FILE_ENV = "JOBMON__CONFIG_FILE"
# Settings that are credentials, or say where they are: a daemon's admin token must never
# reach the commands it runs for others, nor a user's token their own commands.
SECRET_VARIABLES = frozenset({"JOBMON__HTTP__TOKEN", "JOBMON__DB__URL", CONFIG_FILE_ENV})


def without_secrets(environ: Mapping[str, str], *, keep_config_file: bool = False
                    ) -> dict[str, str]:
    """``environ`` less Jobmon's credentials (the user's own variables stay: PATH, conda...)."""
    dropped = SECRET_VARIABLES - ({CONFIG_FILE_ENV} if keep_config_file else set())
    return {name: value for name, value in environ.items() if name not in dropped}
