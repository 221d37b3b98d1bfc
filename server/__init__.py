"""The Jobmon server: aiohttp app, PostgreSQL storage, reaper, embedded PostgreSQL."""
