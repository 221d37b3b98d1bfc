"""Jobmon 3.6 compatibility tests: code as IHME Jobmon's documentation and tests write it.

Each test's docstring names the Jobmon page or test it follows (repository
ihmeuw-scicomp/jobmon, tag client-3.6.0). They use the real server and PostgreSQL
fixtures of tests/conftest.py.
"""
