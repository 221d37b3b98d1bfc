"""IHME Jobmon 3.6's ``jobmon.core`` names (constants, exceptions), on this Jobmon's core."""
