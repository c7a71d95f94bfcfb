"""Why a bundle or peer is refused: one stable code per reason.

Every refusal raises :class:`Refused` (a :class:`~inspect_engine.errors.RefusedError`, CLI exit 5)
*before anything is written*. The code is part of the contract: it appears in the message as
``[code]``, in ``--format json`` output, and in docs/sync.md, and the tests assert on it.
"""

from __future__ import annotations

from enum import StrEnum

from inspect_engine.errors import RefusedError


class Reason(StrEnum):
    """The refusal reasons, grouped by the check that raises them (in the order they run)."""

    # The archive as a file.
    OVERSIZED = "oversized"
    NOT_A_BUNDLE = "not-a-bundle"
    TRUNCATED = "truncated"
    # Its entries, inspected before a single byte of content is decompressed.
    PATH_TRAVERSAL = "path-traversal"
    BAD_ENTRY_TYPE = "bad-entry-type"
    UNEXPECTED_MEMBER = "unexpected-member"
    DUPLICATE_MEMBER = "duplicate-member"
    ZIP_BOMB = "zip-bomb"
    # The manifest.
    MANIFEST_MISSING = "manifest-missing"
    MANIFEST_INVALID = "manifest-invalid"
    UNKNOWN_VERSION = "unknown-version"
    # Who signed it, for whom.
    UNKNOWN_DEVICE = "unknown-device"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    WRONG_RECIPIENT = "wrong-recipient"
    # The content against the manifest.
    MISSING_MEMBER = "missing-member"
    UNLISTED_MEMBER = "unlisted-member"
    HASH_MISMATCH = "hash-mismatch"
    # The events themselves.
    MALFORMED_EVENT = "malformed-event"
    BAD_EVENT_HASH = "bad-event-hash"
    BROKEN_CHAIN = "broken-chain"
    CHAIN_MISMATCH = "chain-mismatch"
    FOREIGN_EVENTS = "foreign-events"
    PACK_FROM_LAPTOP = "pack-from-laptop"
    # The events against this ledger.
    GAP = "gap"
    FORK = "fork"
    REPLAY = "replay"
    # The rule packs a hub's bundle carries, against this data directory.
    PACK_INVALID = "pack-invalid"
    PACK_DOWNGRADE = "pack-downgrade"
    PACK_CONFLICT = "pack-conflict"


ZH: dict[Reason, str] = {
    Reason.OVERSIZED: "文件过大",
    Reason.NOT_A_BUNDLE: "不是同步包",
    Reason.TRUNCATED: "同步包不完整（被截断）",
    Reason.PATH_TRAVERSAL: "包内路径越界",
    Reason.BAD_ENTRY_TYPE: "包内含符号链接或特殊文件",
    Reason.UNEXPECTED_MEMBER: "包内含未知文件",
    Reason.DUPLICATE_MEMBER: "包内文件重名",
    Reason.ZIP_BOMB: "压缩比异常（疑似压缩炸弹）",
    Reason.MANIFEST_MISSING: "缺少清单",
    Reason.MANIFEST_INVALID: "清单无法解析",
    Reason.UNKNOWN_VERSION: "未知的格式版本",
    Reason.UNKNOWN_DEVICE: "未登记的设备",
    Reason.UNKNOWN_KEY: "签名密钥与登记不符",
    Reason.BAD_SIGNATURE: "签名无效",
    Reason.WRONG_RECIPIENT: "同步包不是发给本台账的",
    Reason.MISSING_MEMBER: "清单所列文件缺失",
    Reason.UNLISTED_MEMBER: "包内文件未列入清单",
    Reason.HASH_MISMATCH: "内容哈希不符",
    Reason.MALFORMED_EVENT: "记录格式错误",
    Reason.BAD_EVENT_HASH: "记录被篡改（哈希不符）",
    Reason.BROKEN_CHAIN: "记录链断裂或顺序被打乱",
    Reason.CHAIN_MISMATCH: "记录链与清单不符",
    Reason.FOREIGN_EVENTS: "含有其他设备的记录",
    Reason.PACK_FROM_LAPTOP: "排查终端的同步包不得携带规则包",
    Reason.GAP: "缺少更早的记录",
    Reason.FORK: "与已有记录冲突（同序号不同内容）",
    Reason.REPLAY: "重放旧同步包",
    Reason.PACK_INVALID: "规则包校验不通过",
    Reason.PACK_DOWNGRADE: "规则包版本低于本机已安装的版本",
    Reason.PACK_CONFLICT: "同一版本的规则包内容不同",
}
"""A short Chinese label per reason, shown to the person at the office after the code."""


class Refused(RefusedError):
    """A refusal with its reason code; nothing was imported. ``str()`` is the full message."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(
            f"refused [{reason.value}] {detail} ({ZH[reason]}；未导入任何内容)",
            hint="nothing was written; see docs/sync.md, 'Refusal reasons'",
        )
