"""Run profiles: one place for how much data and how many epochs a chapter uses.

``AEBOOK_PROFILE=quick`` runs every notebook on tiny subsets with few epochs (for CI
on two CPU cores: it catches breakage, its numbers are never published).
``AEBOOK_PROFILE=full`` (the default) is what the published book shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_VAR = "AEBOOK_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Settings shared by every chapter under one profile."""

    name: str
    max_train: int | None  # cap on training images per dataset (None: all)
    max_val: int | None  # cap on validation images per dataset (None: all)
    max_test: int | None  # cap on test images per dataset (None: all)
    max_epochs: int | None  # cap on any chapter's epoch count (None: as the chapter asks)
    batch_size: int

    def epochs(self, full: int) -> int:
        """Epochs to train for a chapter that asks for ``full`` epochs in the full profile."""
        return full if self.max_epochs is None else min(full, self.max_epochs)

    @property
    def publishable(self) -> bool:
        """Whether numbers computed under this profile may be published in the book."""
        return self.name == "full"


PROFILES = {
    "quick": Profile("quick", max_train=2_000, max_val=500, max_test=500, max_epochs=2,
                     batch_size=128),
    "full": Profile("full", max_train=None, max_val=None, max_test=None, max_epochs=None,
                    batch_size=128),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, or the one named by ``$AEBOOK_PROFILE`` (default ``full``)."""
    chosen = (name or os.environ.get(ENV_VAR) or "full").strip().lower()
    if chosen not in PROFILES:
        raise ValueError(
            f"unknown run profile {chosen!r} (from {'argument' if name else ENV_VAR}); "
            f"use one of: {', '.join(PROFILES)}"
        )
    return PROFILES[chosen]
