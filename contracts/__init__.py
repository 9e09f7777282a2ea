"""Contracts shared by the terminal, the clinic server and the sandbox.

Nothing here imports Django or Qt: the terminal agent and the server both depend on it.
"""
