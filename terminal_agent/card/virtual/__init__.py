"""Virtual My Number card: in-process (`VirtualCard` in an `InProcessReader`) and behind pcscd through vpcd
(`python -m terminal_agent.card.virtual --vpcd 127.0.0.1:35963 --profile physical --pin 1234`)."""

from ..readers import InProcessReader
from .card import Faults, VirtualCard, VirtualCardRemoved, load_card_dir, load_card_files
from .vpcd import VpcdClient

__all__ = ["Faults", "InProcessReader", "VirtualCard", "VirtualCardRemoved", "VpcdClient", "load_card_dir", "load_card_files"]
