"""Replaying a policy over past incidents."""
