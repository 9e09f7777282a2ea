"""Virtual My Number card: in-process (`VirtualCard`) and behind pcscd through vpcd (`python -m ...virtual`)."""

from .card import Faults, VirtualCard, VirtualCardRemoved, load_card_files

__all__ = ["Faults", "VirtualCard", "VirtualCardRemoved", "load_card_files"]
