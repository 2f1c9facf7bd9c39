"""Rule tables kept as data: CPT codes, modifiers and payer profiles (drafting/data/*.yaml)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from extractor.errors import ConfigError

__all__ = ["codes", "load_profile", "profile_names", "DATA_DIR", "PROFILE_KEYS"]

DATA_DIR = Path(__file__).parent / "data"
PROFILE_DIR = DATA_DIR / "profiles"
PROFILE_KEYS = {
    "name", "description", "blocks_required", "relief_threshold", "conservative_care_weeks",
    "pain_duration_months", "steroid_in_block", "levels_per_session", "sessions_per_12_months",
    "repeat_ablation", "block_line_modifiers", "bilateral_style", "thoracolumbar_junction", "criteria",
}
_STEROID_RULES = {"fail", "risk", "allow"}
_BILATERAL_STYLES = {"modifier_50", "rt_lt"}
_JUNCTION_RULES = {"one_lumbar_session", "by_region"}


@lru_cache(maxsize=1)
def codes() -> dict:
    return yaml.safe_load((DATA_DIR / "codes.yaml").read_text(encoding="utf-8"))


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


@lru_cache(maxsize=16)
def load_profile(name: str) -> dict:
    """Read and validate one payer profile.

    Raises:
        ConfigError: unknown profile, unknown key or a value out of range.
    """
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown profile {name!r}; available: {', '.join(profile_names())}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = f"profiles/{path.name}"
    unknown = sorted(set(data) - PROFILE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(PROFILE_KEYS)}")
    missing = sorted(PROFILE_KEYS - set(data))
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")
    if data["steroid_in_block"] not in _STEROID_RULES:
        raise ConfigError(f"{where}: steroid_in_block must be one of {sorted(_STEROID_RULES)}")
    if data["bilateral_style"] not in _BILATERAL_STYLES:
        raise ConfigError(f"{where}: bilateral_style must be one of {sorted(_BILATERAL_STYLES)}")
    if data["thoracolumbar_junction"] not in _JUNCTION_RULES:
        raise ConfigError(f"{where}: thoracolumbar_junction must be one of {sorted(_JUNCTION_RULES)}")
    if not 0 < float(data["relief_threshold"]) <= 100:
        raise ConfigError(f"{where}: relief_threshold must be a percentage above 0")
    return data
