"""The pipeline's store: every SQL statement the steps run against schema `atp`."""

from __future__ import annotations

from automatic_transmission.store.media import AppliedOutcomes, MediaStore, NewMedia
from automatic_transmission.store.training import TrainingStore

__all__ = ["AppliedOutcomes", "MediaStore", "NewMedia", "TrainingStore"]
