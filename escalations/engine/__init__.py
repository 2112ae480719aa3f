"""Moves between levels: escalate, acknowledge, decide, de-escalate, sweeps."""
