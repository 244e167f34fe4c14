"""A part-of-speech tagger in plain PyTorch: the model docs/import.md imports."""

from __future__ import annotations

import torch
from torch import nn


class Tagger(nn.Module):
    """Word embeddings, a two-layer bidirectional LSTM, and a tag for every word."""

    def __init__(self, vocab: int = 20000, width: int = 128, hidden: int = 256, tags: int = 17) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.drop = nn.Dropout(0.5)
        self.tags = nn.Linear(2 * hidden, tags)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states, _ = self.lstm(self.embed(tokens))
        return self.tags(self.drop(states))


def build() -> Tagger:
    """The model as `archdraw import docs.examples.tagger:build` calls it."""
    return Tagger()
