"""Enrollment: who may sync, with which key, and whose word about that is trusted.

* The **hub** (the office ledger) is made once: ``sync enroll --as-hub`` gives its data directory
  a signing key and records a ``device.enrolled`` event (role ``hub``) in its own chain.
* A **laptop** is enrolled once, with the hub's data directory reachable as a path: it gets a
  signing key (``keys/device-ed25519.pem``, mode 0600, never replaced), the hub records a
  ``device.enrolled`` event with the laptop's device id, public key and inspector, and the laptop
  pins the hub (device id and public key) in its sync state. The caller then pulls the hub's
  events, so the laptop holds the registry and its sites.
* The **registry** of a ledger is the set of ``device.enrolled`` events *written by the pinned
  hub*. Enrollment events written by anyone else are ignored (and a laptop's bundle carrying one
  is refused), so a laptop can never enroll a device or replace a key. The first enrollment of a
  device id in the event order stands; a later one with another key is ignored.

Enrollment is resumable: a laptop whose key exists but which the hub does not list yet (a crash
in between) finishes enrolling with the same key; enrolling it again with the same key changes
nothing. Enrolling a device the hub lists with a different key is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inspect_engine.errors import InputError, LedgerError
from inspect_engine.events import DeviceEnrolled
from inspect_engine.ledger import Ledger
from inspect_engine.sync import keys
from inspect_engine.sync.state import HubPin, SyncState, load_state, save_state

ENROLL_KIND = "device.enrolled"
Role = Literal["hub", "laptop"]


@dataclass(frozen=True)
class Device:
    """One enrolled device as the registry knows it."""

    device_id: str
    role: Role
    inspector: str
    public_key: str
    event_id: str
    time: str

    @property
    def key_id(self) -> str:
        """The short name of the device's public key."""
        return keys.key_id(self.public_key)


def registry(ledger: Ledger, hub_id: str | None) -> dict[str, Device]:
    """The devices enrolled by ``hub_id`` in this ledger (first enrollment of each id stands).

    Read from the projection's enrollments (every applied ``device.enrolled`` event, in the
    event order), not from the event log: every sync import asks, and a city ledger does not
    hold its sealed events in memory.
    """
    if hub_id is None:
        return {}
    out: dict[str, Device] = {}
    for e in ledger.projection.enrollments:
        p = e.enrolled
        if e.by_device == hub_id and p.device_id not in out:
            out[p.device_id] = Device(
                p.device_id, p.role, p.inspector, p.public_key, e.event_id, e.time
            )
    return out


def role_of(ledger: Ledger, state: SyncState) -> Role | None:
    """``hub``, ``laptop`` or None (not enrolled)."""
    if state.hub is None:
        return None
    return "hub" if state.hub.device_id == ledger.device_id else "laptop"


def _device_id(ledger: Ledger) -> str:
    if ledger.device_id is None:  # pragma: no cover - a writable ledger always has one
        raise LedgerError(f"the ledger at {ledger.data_dir} has no device identity")
    return ledger.device_id


def init_hub(ledger: Ledger, *, office: str) -> Device:
    """Make ``ledger`` the hub: a key, a self-enrollment event, the pin. Resumable, idempotent."""
    me = _device_id(ledger)
    state = load_state(ledger.data_dir)
    if state.hub is not None and state.hub.device_id != me:
        raise InputError(
            f"{ledger.data_dir} is a laptop enrolled with hub {state.hub.device_id[:8]}; "
            "it cannot become a hub",
        )
    key = keys.load_key(ledger.data_dir) if keys.has_key(ledger.data_dir) else None
    key = key or keys.create_key(ledger.data_dir)
    known = registry(ledger, me).get(me)
    if known is None:
        ledger.enroll_device(
            DeviceEnrolled(device_id=me, role="hub", inspector=office, public_key=key.public_hex)
        )
    elif known.public_key != key.public_hex:
        raise LedgerError(f"the hub's key file does not match its enrollment ({known.key_id})")
    if state.hub is None:
        state.hub = HubPin(device_id=me, public_key=key.public_hex)
        save_state(ledger.data_dir, state)
    return registry(ledger, me)[me]


def enroll_laptop(hub: Ledger, laptop: Ledger, *, inspector: str) -> Device:
    """Enroll ``laptop`` with ``hub`` (both open for writing). Resumable, idempotent.

    The caller should then pull the hub's events into the laptop (the registry and the sites).
    """
    hub_id, laptop_id = _device_id(hub), _device_id(laptop)
    hub_state = load_state(hub.data_dir)
    if role_of(hub, hub_state) != "hub":
        raise InputError(
            f"{hub.data_dir} is not a hub",
            hint="make the office ledger the hub first: inspect-engine sync enroll --as-hub",
        )
    assert hub_state.hub is not None
    if laptop_id == hub_id:
        raise InputError("the laptop and the hub are the same ledger")
    lstate = load_state(laptop.data_dir)
    if lstate.hub is not None and lstate.hub.device_id != hub_id:
        raise InputError(
            f"{laptop.data_dir} is already enrolled with another hub ({lstate.hub.device_id[:8]})"
        )
    key = keys.load_key(laptop.data_dir) if keys.has_key(laptop.data_dir) else None
    key = key or keys.create_key(laptop.data_dir)
    known = registry(hub, hub_id).get(laptop_id)
    if known is None:
        hub.enroll_device(
            DeviceEnrolled(
                device_id=laptop_id, role="laptop", inspector=inspector, public_key=key.public_hex
            )
        )
    elif known.public_key != key.public_hex:
        raise InputError(
            f"device {laptop_id[:8]} is already enrolled with another key ({known.key_id})",
            hint="a device is enrolled once; a replaced laptop gets a fresh data directory",
        )
    if lstate.hub is None:
        lstate.hub = hub_state.hub
        save_state(laptop.data_dir, lstate)
    return registry(hub, hub_id)[laptop_id]
