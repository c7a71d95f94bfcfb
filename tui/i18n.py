"""Every string the app shows, in Chinese (the default) and English (``--lang en``).

Pack texts (questions, titles, labels) carry their own ``zh``/``en`` pair and are picked with
:meth:`Strings.text`; the app's own words live in :data:`_STRINGS`. A key missing from the table
is a bug caught by the tests (every key used is looked up at least once by the screens' tests).
"""

from __future__ import annotations

from typing import Literal, Protocol

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class _Bilingual(Protocol):
    @property
    def zh(self) -> str: ...
    @property
    def en(self) -> str: ...


_STRINGS: dict[str, tuple[str, str]] = {
    # app
    "app.title": ("阳泉排查", "Yangquan inspections"),
    "app.demo": ("演示数据", "DEMO DATA"),
    "app.demo_banner": (
        "【演示数据】本台账为演示用生成数据，不是真实排查记录",
        "[DEMO DATA] generated demo ledger, not real inspection records",
    ),
    "app.error": ("出错了", "Error"),
    "app.internal": (
        "内部错误（{kind}），详情已写入 {path}",
        "internal error ({kind}); details written to {path}",
    ),
    "app.ok": ("确定", "OK"),
    "app.cancel": ("取消", "Cancel"),
    "app.quit": ("退出", "Quit"),
    "app.back": ("返回", "Back"),
    "app.help": ("帮助", "Help"),
    "app.yes": ("是", "yes"),
    "app.no": ("否", "no"),
    "app.na": ("不适用", "n/a"),
    "app.none": ("无", "none"),
    # keys (binding descriptions)
    "key.help": ("帮助", "Help"),
    "key.quit": ("退出", "Quit"),
    "key.back": ("返回", "Back"),
    "key.open": ("打开", "Open"),
    "key.search": ("搜索", "Search"),
    "key.filter_county": ("县区", "County"),
    "key.filter_township": ("乡镇", "Township"),
    "key.filter_type": ("类型", "Type"),
    "key.filter_status": ("状态", "Status"),
    "key.clear_filters": ("清除", "Clear"),
    "key.hazards": ("隐患清单", "Hazards"),
    "key.all_sites": ("全部/我的", "All/mine"),
    "key.sync": ("同步", "Sync"),
    "key.sync_run": ("直接同步", "Sync with hub"),
    "key.sync_export": ("导出同步包", "Export bundle"),
    "key.sync_import": ("导入同步包", "Import bundle"),
    "key.start": ("开始排查", "Start"),
    "key.resume": ("继续排查", "Resume"),
    "key.finding": ("隐患详情", "Finding"),
    "key.notice": ("整改通知书", "Notice"),
    "key.yes": ("是", "Yes"),
    "key.no": ("否", "No"),
    "key.na": ("不适用", "N/A"),
    "key.prev": ("上一项", "Previous"),
    "key.next": ("下一项", "Next"),
    "key.basis": ("依据", "Basis"),
    "key.note": ("备注", "Note"),
    "key.evidence": ("证据", "Evidence"),
    "key.jump": ("跳转", "Jump"),
    "key.review": ("结果", "Review"),
    "key.submit": ("提交", "Submit"),
    "key.walk": ("回到检查", "Back to walk"),
    "key.report": ("整改报告", "Report"),
    "key.start_rect": ("开始整改", "Start rectifying"),
    "key.verify": ("复查销号", "Verify & close"),
    "key.reopen": ("重新打开", "Reopen"),
    "key.lift": ("解除处置", "Lift order"),
    "key.five": ("五落实", "Five-in-place"),
    "key.choose": ("选择", "Choose"),
    "key.toggle": ("勾选", "Toggle"),
    "key.confirm": ("确认", "Confirm"),
    # sites
    "sites.title": ("我的排查对象", "My sites"),
    "sites.search": ("按名称或地址搜索…", "Search by name or address…"),
    "sites.count": ("共 {shown}/{total} 处", "{shown} of {total} sites"),
    "sites.col.name": ("名称", "Name"),
    "sites.col.county": ("县区", "County"),
    "sites.col.township": ("乡镇", "Township"),
    "sites.col.type": ("类型", "Type"),
    "sites.col.status": ("状态", "Status"),
    "filter.all_counties": ("全部县区", "All counties"),
    "filter.all_townships": ("全部乡镇", "All townships"),
    "filter.all_types": ("全部类型", "All types"),
    "filter.all_status": ("全部状态", "Any status"),
    "status.not_inspected": ("未排查", "not yet"),
    "status.in_progress": ("排查中", "in progress"),
    "status.open_findings": ("有未销号隐患", "open"),
    "status.overdue": ("有逾期隐患", "overdue"),
    "status.clear": ("无未销号隐患", "clear"),
    "sites.mine": ("我的排查对象", "My sites"),
    "sites.all": ("全部排查对象", "All sites"),
    # site
    "site.address": ("地址", "Address"),
    "site.area": ("所在地", "Location"),
    "site.types": ("类型", "Types"),
    "site.parties": ("责任主体", "Responsible parties"),
    "site.group": ("督导组", "Supervision group"),
    "site.inspector": ("排查人员", "Inspector"),
    "site.inspections": ("历次排查", "Past inspections"),
    "site.findings": ("未销号隐患", "Open findings"),
    "site.no_inspections": ("尚未排查", "Not inspected yet"),
    "site.no_findings": ("无未销号隐患", "No open findings"),
    "site.notice_written": (
        "整改通知书已生成（可打印）：\n{path}\n（同目录另有 Markdown 副本）",
        "Rectification notice written (printable):\n{path}\n(a Markdown copy beside it)",
    ),
    "site.no_notice": (
        "本场所没有已提交且发现问题的检查，无需整改通知书",
        "No submitted inspection with findings here: no notice to write",
    ),
    "site.col.date": ("日期", "Date"),
    "site.col.pack": ("检查表", "Checklist"),
    "site.col.method": ("方式", "Method"),
    "site.col.inspectors": ("排查人员", "Inspectors"),
    "site.col.state": ("状态", "State"),
    "site.col.findings": ("隐患", "Findings"),
    "site.col.level": ("等级", "Level"),
    "site.col.title": ("隐患", "Finding"),
    "site.col.deadline": ("整改期限", "Deadline"),
    "site.col.status": ("状态", "Status"),
    "party.approver": ("审批单位", "Approver"),
    "party.supervisor": ("主管单位", "Supervisor"),
    "party.owner": ("产权人", "Owner"),
    "party.user": ("使用人", "User"),
    "insp.open": ("进行中", "open"),
    "insp.submitted": ("已提交", "submitted"),
    "insp.cancelled": ("已取消", "cancelled"),
    # start
    "start.title": ("开始排查", "Start an inspection"),
    "start.pack": ("检查表", "Checklist"),
    "start.method": ("排查方式", "Method"),
    "start.inspectors": ("排查人员（逗号分隔）", "Inspectors (comma-separated)"),
    "start.no_pack": ("没有适用于该对象类型的检查表", "No checklist applies to this site's types"),
    "start.need_inspector": ("请填写排查人员", "Enter at least one inspector"),
    "method.open": ("明查", "announced"),
    "method.unannounced": ("暗访", "unannounced visit"),
    "method.surprise": ("突击检查", "surprise check"),
    "method.random": ("随机抽查", "random check"),
    # walk
    "walk.progress": ("第 {pos}/{total} 项 · 已答 {done}", "item {pos}/{total} · {done} answered"),
    "walk.done": (
        "全部适用项已回答。按 F6 或 r 查看结果并提交。",
        "Every applicable item is answered. Press F6 or r to review and submit.",
    ),
    "walk.saving": ("保存中…", "saving…"),
    "walk.saved": ("已保存", "saved"),
    "walk.save_failed": ("保存失败：{error}", "save failed: {error}"),
    "walk.answer": ("回答", "Answer"),
    "walk.unanswered": ("未回答", "unanswered"),
    "walk.yes_no": ("[Y] 是    [N] 否", "[Y] yes    [N] no"),
    "walk.yes_no_na": ("[Y] 是    [N] 否    [X] 不适用", "[Y] yes    [N] no    [X] n/a"),
    "walk.number": (
        "输入数值（{unit}，范围 {min}–{max}），回车确认",
        "Enter a number ({unit}, {min}–{max}), Enter to save",
    ),
    "walk.integer": ("整数", "whole number"),
    "walk.choice": ("按数字键或上下键加回车选择", "Press a digit, or arrows and Enter"),
    "walk.multi": ("数字键或空格勾选，回车确认", "Digits or Space toggle, Enter to save"),
    "walk.text": ("输入文字，回车确认", "Type, then Enter to save"),
    "walk.bad_number": ("请输入数字", "Enter a number"),
    "walk.out_of_range": ("超出范围 {min}–{max} {unit}", "outside {min}–{max} {unit}"),
    "walk.not_integer": ("须为整数", "must be a whole number"),
    "walk.empty_text": ("请输入内容", "Enter some text"),
    "walk.note": ("备注", "Note"),
    "walk.evidence": ("证据", "Evidence"),
    "walk.evidence_needed": ("需附证据：{kinds}", "evidence needed: {kinds}"),
    "walk.hint": ("提示", "Hint"),
    "walk.hidden": ("（依前面的回答，本项不再适用）", "(no longer applies given earlier answers)"),
    "walk.sealed": ("本次排查已提交，不能修改", "This inspection is submitted and cannot change"),
    "walk.not_applicable_here": ("本项不适用于当前对象", "This item does not apply here"),
    "walk.findings_live": ("当前隐患 {n} 条", "{n} finding(s) so far"),
    "evidence.photo": ("照片", "photo"),
    "evidence.document": ("文件", "document"),
    "evidence.video": ("视频", "video"),
    # jump
    "jump.title": ("跳转到检查项", "Jump to an item"),
    # basis
    "basis.title": ("依据", "Basis"),
    "basis.source": ("文件条款", "Clause"),
    "basis.law": ("法律法规", "Law and standards"),
    "basis.unverified": ("（未核实）", " (unverified)"),
    "basis.later_law": ("（晚于2020年，仅供参考）", " (later than 2020; supplementary)"),
    # note / evidence dialogs
    "note.title": ("备注：{item}", "Note: {item}"),
    "note.placeholder": ("输入备注，回车保存，Esc 取消", "A note; Enter saves, Esc cancels"),
    "evidence.title": ("附加证据：{item}", "Attach evidence: {item}"),
    "evidence.placeholder": ("文件路径，回车保存", "File path, Enter to attach"),
    "evidence.missing": ("文件不存在：{path}", "No such file: {path}"),
    "evidence.attached": ("已附加 {name}", "Attached {name}"),
    # review
    "review.title": ("排查结果", "Findings"),
    "review.none": ("未发现隐患", "No findings"),
    "review.level": ("等级", "Level"),
    "review.consequences": ("处置措施", "Consequences"),
    "review.rectification": ("整改要求", "Rectification"),
    "review.deadline": ("整改期限", "Deadline"),
    "review.responsible": ("责任主体", "Responsible"),
    "review.why": ("依据的回答", "Because"),
    "review.basis": ("依据条款", "Clause"),
    "review.facts": ("判定", "Derived"),
    "review.site_level": ("（本对象存在隐患）", "(a hazard at this site)"),
    "review.unregistered": ("未登记", "not registered"),
    "review.incomplete": (
        "尚有 {n} 项未回答，不能提交",
        "{n} item(s) still unanswered: cannot submit",
    ),
    "review.pending": ("仍有回答在保存，请稍候", "Answers are still being saved; wait a moment"),
    "review.confirm": (
        "确认提交？提交后本次排查封存，不能再修改。隐患 {n} 条。",
        "Submit? The inspection is then sealed and cannot change. {n} finding(s).",
    ),
    "review.submitted": ("已提交并封存", "Submitted and sealed"),
    "review.notice_hint": (
        "在场所页按 n 生成整改通知书（可打印）",
        "Press n on the site screen for the printable rectification notice",
    ),
    "review.evaluating": ("判定中…", "evaluating…"),
    "review.eval_failed": ("判定失败：{error}", "evaluation failed: {error}"),
    "review.missing_evidence": ("缺少证据：{items}", "evidence missing: {items}"),
    # finding / follow-up
    "finding.title": ("隐患详情", "Finding"),
    "finding.status": ("状态", "Status"),
    "finding.history": ("处理记录", "History"),
    "finding.orders": ("处置措施", "Orders"),
    "finding.order_lifted": ("已解除", "lifted"),
    "finding.order_active": ("执行中", "in force"),
    "finding.report_prompt": ("整改情况说明", "What was rectified"),
    "finding.start_prompt": ("整改安排说明", "How the rectification is organised"),
    "finding.deadline": ("整改期限", "Deadline"),
    "finding.orders_note": (
        "提交时，隐患所列停止使用、停止建设等处置措施记为执法措施",
        "On submit, orders the findings carry (stop use, stop construction...) are recorded",
    ),
    "finding.verify_prompt": ("复查意见（复查合格后销号）", "Re-inspection note (closes it)"),
    "finding.reopen_prompt": ("重新打开的原因", "Reason for reopening"),
    "finding.lift_prompt": ("解除依据（复查情况）", "Grounds for lifting (re-inspection)"),
    "finding.need_text": ("请填写内容", "Enter some text"),
    "finding.five_title": ("五落实（重大隐患）", "Five-in-place (major hazard)"),
    "finding.five.responsible_person": ("责任人", "Responsible person"),
    "finding.five.measures": ("整改措施", "Measures"),
    "finding.five.funds": ("整改资金（万元）", "Funds (10k yuan)"),
    "finding.five.deadline": ("整改时限（年-月-日，如 2020-10-15）", "Deadline (e.g. 2020-10-15)"),
    "finding.five.contingency_plan": ("应急预案", "Contingency plan"),
    "finding.five.bad_funds": ("资金须为不小于 0 的数字", "Funds must be a number, 0 or more"),
    "finding.five.bad_date": ("日期格式应为 YYYY-MM-DD", "Date must be YYYY-MM-DD"),
    "finding.no_orders": ("无执行中的处置措施", "No order in force"),
    "finding.done": ("已记录", "Recorded"),
    "five.responsible_person": ("责任人", "Responsible"),
    "five.measures": ("措施", "Measures"),
    "five.funds": ("资金（万元）", "Funds (10k yuan)"),
    "five.deadline": ("时限", "Deadline"),
    "five.contingency_plan": ("预案", "Contingency plan"),
    "fstatus.open": ("待整改", "open"),
    "fstatus.in_rectification": ("整改中", "being rectified"),
    "fstatus.reported": ("已整改待复查", "reported, to verify"),
    "fstatus.closed": ("销号", "closed"),
    "fstatus.overdue": ("逾期", "overdue"),
    "action.raised": ("发现", "raised"),
    "action.plan": ("五落实", "five-in-place"),
    "action.start": ("开始整改", "rectification started"),
    "action.report": ("报告已整改", "reported rectified"),
    "action.close": ("复查合格销号", "verified and closed"),
    "action.reopen": ("重新整改", "reopened"),
    # hazards
    "hazards.title": ("未销号隐患清单", "Unresolved hazards"),
    "hazards.count": ("共 {n} 条，逾期 {overdue} 条", "{n} hazards, {overdue} overdue"),
    "hazards.col.county": ("县区", "County"),
    "hazards.col.site": ("对象", "Site"),
    "hazards.col.level": ("等级", "Level"),
    "hazards.col.title": ("隐患", "Hazard"),
    "hazards.col.deadline": ("期限", "Deadline"),
    "hazards.col.status": ("状态", "Status"),
    "hazards.all_levels": ("全部等级", "All levels"),
    # sync
    "sync.title": ("同步", "Sync"),
    "sync.not_enrolled": (
        "本台账尚未登记同步。请在办公室运行 inspect-engine sync enroll（见 docs/sync.md）。",
        "This ledger is not enrolled for sync: run `inspect-engine sync enroll` at the office "
        "(docs/sync.md).",
    ),
    "sync.role": ("本机：{role}（设备 {device}）", "This device: {role} ({device})"),
    "sync.role.hub": ("办公室汇总台账", "office hub"),
    "sync.role.laptop": ("排查终端", "field laptop"),
    "sync.hub": ("汇总台账设备：{hub}", "Hub device: {hub}"),
    "sync.hub_prompt": ("汇总台账的数据目录（共享文件夹或U盘）", "The hub's data directory"),
    "sync.export_prompt": ("同步包保存到（文件夹或文件）", "Write the bundle to (folder or file)"),
    "sync.import_prompt": ("要导入的同步包文件", "The bundle file to import"),
    "sync.working": ("同步中…", "syncing…"),
    "sync.stage.export": ("打包", "packing"),
    "sync.stage.verify": ("校验", "verifying"),
    "sync.stage.evidence": ("证据文件", "evidence"),
    "sync.stage.write": ("写入", "writing"),
    "sync.stage.packs": ("规则包", "rule packs"),
    "sync.action.push": ("上传", "push"),
    "sync.action.pull": ("下载", "pull"),
    "sync.action.export": ("导出", "export"),
    "sync.action.import": ("导入", "import"),
    "sync.action.push/pull": ("同步", "sync"),
    "sync.refused": ("已拒绝，未导入任何内容", "refused, nothing imported"),
    "sync.counts": (
        "记录 {events} 条，新增 {new}，已有 {present}，证据 {evidence}，新冲突 {conflicts}",
        "{events} events, {new} new, {present} present, {evidence} evidence, "
        "{conflicts} new conflicts",
    ),
    "sync.packs": (
        "已安装汇总台账下发的检查表：{packs}（新开始的检查使用新版本，进行中的检查沿用原版本）",
        "Rule packs installed from the hub: {packs} (new inspections use them; open ones keep "
        "their version)",
    ),
    # help
    "help.title": ("按键说明", "Keys"),
    "help.global": ("全局", "Everywhere"),
    "help.sites": ("排查对象列表", "Sites"),
    "help.site": ("对象详情", "Site"),
    "help.walk": ("逐项检查", "Walk"),
    "help.review": ("排查结果", "Review"),
    "help.finding": ("隐患详情", "Finding"),
    "help.hazards": ("未销号隐患", "Unresolved hazards"),
    "help.sync": ("同步", "Sync"),
    "help.dialogs": ("对话框", "Dialogs"),
    "help.focus": ("切换焦点", "Move focus"),
    "help.move": ("在列表中移动", "Move in a list"),
    "help.close": ("按 Esc 关闭", "Esc to close"),
    "help.no_mouse": ("所有操作都可用键盘完成。", "Everything works from the keyboard."),
}


class Strings:
    """The app's words in one language."""

    def __init__(self, lang: Lang = "zh") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
        self.lang: Lang = lang
        self._index = 0 if lang == "zh" else 1

    def __call__(self, key: str, **values: object) -> str:
        """The string ``key`` in this language, with ``{names}`` filled from ``values``."""
        text = _STRINGS[key][self._index]
        return text.format(**values) if values else text

    def text(self, bilingual: _Bilingual) -> str:
        """A pack text (question, title, label) in this language."""
        return bilingual.zh if self.lang == "zh" else bilingual.en

    @property
    def colon(self) -> str:
        """``：`` or ``: `` after a label."""
        return "：" if self.lang == "zh" else ": "

    @property
    def sep(self) -> str:
        """Between clauses: ``；`` or ``; ``."""
        return "；" if self.lang == "zh" else "; "

    @property
    def list_sep(self) -> str:
        """Between the items of a list: ``、`` or ``, ``."""
        return "、" if self.lang == "zh" else ", "

    def has(self, key: str) -> bool:
        """Whether ``key`` is a known string."""
        return key in _STRINGS


def all_keys() -> list[str]:
    """Every string key (the tests check both languages are non-empty)."""
    return sorted(_STRINGS)
