"""The one door to onnxruntime: every import of it in the app goes through here.

onnxruntime 1.32 ships Microsoft telemetry (the 1DS SDK). Merely importing it writes a device id and
an event queue under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``, and about nine seconds later
it resolves ``mobile.events.data.microsoft.com`` to upload them. Librarian promises no network and no
telemetry, so both are turned off here, before the library is loaded:

- ``ORT_DISABLE_TELEMETRY=1`` in the environment is read by the native library when it loads; it is
  the only switch that also stops the files (measured: ``disable_telemetry_events()`` alone stops
  the upload, but the device id and queue are already written at import). Being in ``os.environ``,
  it is inherited by every child process as well.
- ``disable_telemetry_events()`` after the import covers a host program that imported onnxruntime
  before Librarian (then the variable came too late): it stops the uploads.

The value is forced, not defaulted: a user's ``ORT_DISABLE_TELEMETRY=0`` must not turn it back on.
tests/test_hostile_network.py checks this under strace and that nothing else imports onnxruntime.
"""

from __future__ import annotations

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import onnxruntime as ort  # noqa: E402  (the variable above must be set first)

ort.disable_telemetry_events()

__all__ = ["ort"]
