"""What people read for each member of a closed set: one lazily translated label each.

Templates get these dicts as globals (``feedback.templating``); views, forms,
exports and the API read them from here. Each is keyed by its enum, and a
test checks that every member has a label in every language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from feedback.models import AuditAction
from feedback.models import Channel
from feedback.models import FailureKind
from feedback.models import HoldReason
from feedback.models import Notification
from feedback.models import OutboxState
from feedback.models import Rating
from feedback.models import ReplyState
from feedback.models import RetireCause
from feedback.models import StatusKind
from feedback.models import Submission
from feedback.models import SubmissionKind
from feedback.models import SubmissionState

STATE_LABELS = {
    SubmissionState.RECEIVED: _l("待分办"),
    SubmissionState.ROUTED: _l("已转办，待答复"),
    SubmissionState.NOT_ACCEPTED: _l("不予受理"),
    SubmissionState.DUPLICATE: _l("重复件"),
    SubmissionState.SPAM: _l("无效信息"),
    SubmissionState.REPLIED: _l("已答复"),
    SubmissionState.CLOSED: _l("已办结"),
}

# A 举报 follows the same states, but its author reads them as a report's:
# received, taken up and being looked into (受理 → 核查中), concluded. No
# section is ever named to them.
MISCONDUCT_STATE_LABELS = {
    **STATE_LABELS,
    SubmissionState.RECEIVED: _l("已收到，待受理"),
    SubmissionState.ROUTED: _l("已受理，核查中"),
    SubmissionState.REPLIED: _l("已办结"),
    SubmissionState.CLOSED: _l("已办结"),
}


def state_label(submission: Submission) -> str:
    """Return how the author reads the submission's state: a 举报 in its own words."""
    names = MISCONDUCT_STATE_LABELS if submission.is_misconduct else STATE_LABELS
    return str(names[submission.state])


KIND_NAMES = {
    SubmissionKind.OPINION: _l("意见"),
    SubmissionKind.SUGGESTION: _l("建议"),
    SubmissionKind.COMPLAINT: _l("投诉"),
    SubmissionKind.MISCONDUCT: _l("举报"),
}

CHANNEL_NAMES = {
    Channel.WEB: _l("网站"),
    Channel.EMAIL: _l("电子邮件"),
    Channel.API: _l("开放接口"),
    Channel.PHONE: _l("电话"),
    Channel.LETTER: _l("来信"),
    Channel.VISIT: _l("来访"),
}

RATING_NAMES = {
    Rating.SATISFIED: _l("满意"),
    Rating.BASICALLY_SATISFIED: _l("基本满意"),
    Rating.DISSATISFIED: _l("不满意"),
}

HOLD_REASONS = {
    HoldReason.REPLY_ADDRESS: _l("按回复地址归入"),
    HoldReason.NEW_SUBMISSION: _l("新的公众来信"),
    HoldReason.HEADER: _l("仅按邮件会话找到，未寄到签名回复地址"),
    HoldReason.SUBJECT: _l("仅按主题中的编号找到，未寄到签名回复地址"),
    HoldReason.NO_MATCH: _l("找不到对应的意见"),
    HoldReason.BAD_SIGNATURE: _l("回复地址被改动"),
    HoldReason.FOREIGN_DOMAIN: _l("发件人不在股室的邮箱域名内"),
    HoldReason.OTHER_SECTION: _l("发件人是其他股室的邮箱"),
    HoldReason.NOT_WAITING: _l("该件已不在等待这个股室答复"),
    HoldReason.AUTO_REPLY: _l("自动回复"),
    HoldReason.DUPLICATE: _l("重复的邮件"),
}

STATUS_KIND_LABELS = {
    StatusKind.DONE: _l("已完成"),
    StatusKind.ONGOING: _l("推进中"),
    StatusKind.LONG_TERM: _l("长期坚持"),
    StatusKind.NOT_DONE: _l("未完成"),
}

OUTBOX_STATES = {
    OutboxState.PENDING: _l("待发送"),
    OutboxState.SENDING: _l("发送中"),
    OutboxState.SENT: _l("已发送"),
    OutboxState.FAILED: _l("发送失败"),
    OutboxState.SUPPRESSED: _l("未发送（回执过多）"),
}

# What an outgoing message is, the one thing about it admins may read
# besides its delivery (they see no subject, address or reference).
NOTIFICATION_NAMES = {
    Notification.RECEIPT: _l("受理回执"),
    Notification.SUBMISSION_ROUTED: _l("分办通知"),
    Notification.DEADLINE_REMINDER: _l("到期提醒"),
    Notification.DEADLINE_ESCALATION: _l("超期督办"),
    Notification.AUTHOR_UPDATE: _l("办理进展"),
    Notification.REPLY_RETURNED: _l("答复退回"),
    Notification.REPLY_APPROVED: _l("答复送达"),
    Notification.INFO_ANSWERED: _l("补充材料通知"),
    Notification.RATED_DISSATISFIED: _l("不满意评价通知"),
    Notification.SIGN_IN_LOCKED: _l("登录暂停通知"),
    Notification.SECTION_ADDRESS_CHANGED: _l("股室邮箱变更通知"),
    Notification.REPLY_HELD: _l("答复邮件待核对通知"),
}

OUTBOX_FAILURES = {
    FailureKind.UNREACHABLE: _l("连不上邮件服务器。"),
    FailureKind.TIMEOUT: _l("邮件服务器没有应答（超时）。"),
    FailureKind.CONNECTION_LOST: _l("与邮件服务器的连接中断。"),
    FailureKind.BUSY: _l("邮件服务器暂时不收。"),
    FailureKind.REFUSED: _l("邮件服务器拒收此邮件。"),
    FailureKind.RECIPIENT_REFUSED: _l("邮件服务器拒收此收件地址，请核对地址。"),
    FailureKind.UNBUILDABLE: _l("这封邮件无法生成，请告知技术人员。"),
}

REPLY_STATES = {
    ReplyState.DRAFT: _l("待审核"),
    ReplyState.RETURNED: _l("已退回"),
    ReplyState.APPROVED: _l("已审核通过"),
    ReplyState.RETIRED: _l("已作废"),
}

# Why a draft was retired, as its section and the lead read it after "已作废：".
RETIRE_CAUSES = {
    RetireCause.ANOTHER_APPROVED: _l("另一份答复已审核通过"),
    RetireCause.REVISED: _l("股室已提交修改后的答复"),
    RetireCause.CLOSED: _l("此件已办结"),
    RetireCause.REOPENED: _l("此件已重新办理，需要新的答复"),
    RetireCause.REROUTED: _l("此件已改由其他股室办理"),
}

# What the audit log's reader (the lead, the administrator) sees for each action.
AUDIT_ACTIONS = {
    AuditAction.SUBMITTED: _l("群众提交"),
    AuditAction.ROUTED: _l("转办"),
    AuditAction.REPLY_DRAFTED: _l("股室答复"),
    AuditAction.REPLY_APPROVED: _l("答复审核通过"),
    AuditAction.STATUS_CHANGED: _l("整改状态变更"),
    AuditAction.PROGRESS_ADDED: _l("添加整改进展"),
    AuditAction.STAFF_CREATED: _l("创建工作人员账号"),
    AuditAction.LOGGED_IN: _l("登录成功"),
    AuditAction.LOGGED_OUT: _l("退出登录"),
    AuditAction.DEMO_LOADED: _l("载入演示数据"),
    AuditAction.PROBLEM_EDITED: _l("修改问题"),
    AuditAction.NOTICE_IMPORTED: _l("导入整改通报"),
    AuditAction.SECTION_SAVED: _l("修改股室与邮件路由"),
    AuditAction.ACCOUNT_LOCKED: _l("登录失败过多，已锁定"),
    AuditAction.PASSWORD_CHANGED: _l("修改密码"),
    AuditAction.STAFF_DISABLED: _l("停用工作人员账号"),
    AuditAction.REFUSED: _l("决定不予受理"),
    AuditAction.MARKED_DUPLICATE: _l("标记为重复件"),
    AuditAction.MARKED_SPAM: _l("标记为无效信息"),
    AuditAction.EXTENDED: _l("延长答复期限"),
    AuditAction.NOTE_ADDED: _l("添加内部备注"),
    AuditAction.REPLY_RETURNED: _l("答复退回股室"),
    AuditAction.REPLY_PUBLISHED: _l("公开答复"),
    AuditAction.INFO_REQUESTED: _l("请群众补充材料"),
    AuditAction.INFO_ANSWERED: _l("群众补充材料"),
    AuditAction.RATED: _l("群众评价"),
    AuditAction.REOPENED: _l("已重新办理"),
    AuditAction.RATING_REVIEWED: _l("不满意评价已复核，维持办结"),
    AuditAction.ACCEPTED: _l("受理举报"),
    AuditAction.CONCLUDED: _l("举报办结"),
    AuditAction.PURGED: _l("到期删除个人信息"),
    AuditAction.TOTP_CHANGED: _l("修改两步验证"),
    AuditAction.HOLIDAY_SAVED: _l("修改节假日"),
    AuditAction.AUTO_CLOSED: _l("未评价，自动办结"),
    AuditAction.API_KEY_CREATED: _l("发放接口密钥"),
    AuditAction.API_KEY_REVOKED: _l("吊销接口密钥"),
    AuditAction.EXPORTED: _l("导出台账"),
    AuditAction.OUTBOX_RETRIED: _l("重发失败邮件"),
    AuditAction.OUTBOX_ACKNOWLEDGED: _l("已知悉发送失败的邮件"),
    AuditAction.MAIL_DISCARDED: _l("丢弃待处理邮件"),
    AuditAction.REPLY_REVISED: _l("股室修改待审核答复"),
    AuditAction.REPLY_RETIRED: _l("答复作废"),
}
