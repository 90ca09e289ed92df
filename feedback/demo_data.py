"""Demo board content: the seed notice's structure, measures in our own words."""

from datetime import date
from datetime import datetime
from typing import NotRequired
from typing import TypedDict
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


class RoundSpec(TypedDict):
    """The inspection round, as keyword arguments of ``Inspection``."""

    name: str
    publishing_body: str
    inspecting_group: str
    onsite_start: date
    onsite_end: date
    feedback_date: date
    published_on: date
    declared_aspects: int
    declared_problems: int
    notice_title: str


class SectionSpec(TypedDict):
    key: str
    name: str
    email: str
    kinds: NotRequired[str]


class ProblemSpec(TypedDict):
    number: int
    title: str
    status_word: str
    details: str
    measures: str
    section: str  # a SectionSpec key
    deadline: date | None


class AspectSpec(TypedDict):
    number: int
    title: str
    problems: list[ProblemSpec]


class ProgressSpec(TypedDict):
    aspect: int
    problem: int
    published_on: date
    body: str


class StatusChangeSpec(TypedDict):
    aspect: int
    problem: int
    from_word: str
    to_word: str
    effective_on: date
    reason: str


class PublishedReplySpec(TypedDict):
    kind: str
    aspect: int
    problem: int
    subject: str
    body: str
    name: str | None
    phone: str | None
    email: str | None
    received_at: datetime
    reply: str
    replied_at: datetime
    published_at: datetime


ROUND: RoundSpec = {
    "name": "八届市委第三轮县级交叉巡察",
    "publishing_body": "中共梅州市梅江区教育局党组",
    "inspecting_group": "八届市委第三轮县级交叉巡察第六组",
    # The notice only says 2024年10月上旬至2024年12月上旬 (early October to early
    # December 2024): we take the 1st day of the first 旬 as the start and the
    # 10th day (end of the first 旬) as the end.
    "onsite_start": date(2024, 10, 1),
    "onsite_end": date(2024, 12, 10),
    "feedback_date": date(2025, 1, 26),
    "published_on": date(2025, 7, 8),
    "declared_aspects": 4,
    "declared_problems": 18,
    "notice_title": (
        "中共梅州市梅江区教育局党组关于落实八届市委第三轮县级交叉巡察反馈意见的"
        "整改阶段性进展情况的通报"
    ),
}

SECTIONS: list[SectionSpec] = [
    {
        "key": "office",
        "name": "办公室",
        "email": "office@meijiang-edu.example",
        "kinds": "opinion suggestion complaint",  # the general desk
    },
    {"key": "personnel", "name": "人事股", "email": "personnel@meijiang-edu.example"},
    {"key": "finance", "name": "计划财务股", "email": "finance@meijiang-edu.example"},
]

# Titles, numbers and status words are copied from the notice (facts); details
# and measures are our own short summaries. Sections and deadlines are
# plausible assignments for the demo, not stated in the notice (short items: three
# months after the 2025-01-26 feedback; bigger ones: end of June 2025).
ASPECTS: list[AspectSpec] = [
    {
        "number": 1,
        "title": "履行巡察整改主体责任不够到位，部分巡察反馈问题整改不彻底",
        "problems": [
            {
                "number": 1,
                "title": "落实巡察整改工作不够有力",
                "status_word": "已完成",
                "details": (
                    "通报没有单列具体表现。从整改内容看，"
                    "是上一轮巡察遗留的事项推进偏慢，例如学校运动场建设和机构编制调整。"
                ),
                "measures": (
                    "统筹资金并督促施工方赶工，芹洋学校运动场已按期建成启用。"
                    "向区委编办申请新设校外培训机构监管股，"
                    "并为两个局属中心增加事业编制，都已获批落实。"
                    "副校长轮岗与教师“区管校聘”交流结合推进，当年任务按计划完成。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
        ],
    },
    {
        "number": 2,
        "title": "贯彻上级决策部署有差距，履行教育管理职能不够到位",
        "problems": [
            {
                "number": 1,
                "title": "落实“第一议题”制度有差距",
                "status_word": "已完成",
                "details": (
                    "有的党组会没有安排“第一议题”学习，已有的学习也停留在浅层。"
                ),
                "measures": (
                    "建立“第一议题”制度，并配套出台联系教育实际的落实意见。"
                    "党组会议制度随之修订：此后每次党组会和理论学习中心组学习，"
                    "都先学习党的创新理论和总书记重要讲话、重要批示精神，"
                    "再研究本系统如何落实。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 2,
                "title": "执行“三重一大”议事决策制度不严格",
                "status_word": "已完成",
                "details": (
                    "哪些事项属于“三重一大”界定不清；讨论常以一句“一致同意”带过；"
                    "还有个别事项没有经党组会集体研究。"
                ),
                "measures": (
                    "修订党组会议制度，把范围写清：除人员经费外，局本级1万元以上、"
                    "下属单位5万元以上的项目支出，都要集体决策。"
                    "局党组成员重新学习干部选拔任用的有关规定，"
                    "干部任免事项一律上会讨论，按规范流程集体决定。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 3,
                "title": "意识形态工作责任制落实不到位",
                "status_word": "已完成",
                "details": (
                    "对网络舆情掌握不够，宣传阵地管得不严，党务宣传栏目更新迟缓。"
                ),
                "measures": (
                    "建立每月一次的舆情风险点排查，"
                    "由各基层党组织和局机关股室（中心）上报，汇总后转交专业监测，"
                    "力求早发现、早处置。教育信息改为统一在区政府门户网站发布，"
                    "执行“三审三校”并留存审核底稿。召开思政课建设推进会，"
                    "各校开展月度思政主题学习；各校党组织自查并更新党务宣传内容。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 4,
                "title": "推进教育高质量发展有差距",
                "status_word": "已完成",
                "details": (
                    "重点建设项目进度偏慢；普通高中“双高”（高质高效）工程落实不够。"
                ),
                "measures": (
                    "嘉应学院附属学校新建项目实行进展定期报送，相关审批开辟绿色通道、"
                    "加快办理。教师发展中心每学年初派教研员到完全中学了解高考备考情况，"
                    "逐校提出改进建议；另请专家为全区高三教师开设备考讲座。"
                ),
                "section": "finance",
                "deadline": date(2025, 6, 30),
            },
            {
                "number": 5,
                "title": "局机关及校园安全管理有漏洞",
                "status_word": "已完成",
                "details": (
                    "局机关在消防和档案保管上有隐患；部分校园存在消防隐患，"
                    "校园餐（营养餐）管理也有疏漏。"
                ),
                "measures": (
                    "局机关换掉老化电线，清走便携电器和易燃物，档案不再有遗失之虞。"
                    "会同职能部门复查有隐患的单位，并在2025年春季开学前由各股室（中心）"
                    "把挂钩学校和幼儿园全部检查一遍，发现的问题均已整改。"
                    "各校建立“一生一策”心理健康档案、配齐专（兼）职心理教师；"
                    "营养改善计划学校培训从业人员食品安全知识，细化并执行相关制度。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 6,
                "title": "师资队伍建设推进不力",
                "status_word": "长期坚持",
                "details": (
                    "“双师型”教师偏少，研究生学历教师比例不高，教师交流轮岗比例偏低。"
                ),
                "measures": (
                    "争取到专门编制招聘“双师型”教师，"
                    "并以专业培训和考核激励提高其比例。摸清普通高中编制缺额和学科缺员，"
                    "通过公开招聘和人才引进补充研究生学历教师，"
                    "同时鼓励在职教师攻读研究生学历。选派城区教师到乡村学校支教，"
                    "另派教师赴荔湾区跟岗学习。"
                ),
                "section": "personnel",
                "deadline": None,
            },
            {
                "number": 7,
                "title": "民办学校监管不到位",
                "status_word": "已完成",
                "details": (
                    "民办幼儿园教师持证比例低，“两教一保”没有配齐；"
                    "对民办学校自行收费的情况管得不严。"
                ),
                "measures": (
                    "重新制订民办幼儿园年检方案，"
                    "把专任教师持证上岗和“两教一保”配备列为年检重点，"
                    "并核准持证数据的录入。督促幼儿园让无证教师考证或改聘持证教师，"
                    "并提高待遇留住人才。全区学校落实收费公示，规范服务性收费和代收费，"
                    "查实乱收费的从严处理。"
                ),
                "section": "finance",
                "deadline": date(2025, 6, 30),
            },
        ],
    },
    {
        "number": 3,
        "title": "党风廉政建设存在薄弱环节，廉政风险防范意识不强",
        "problems": [
            {
                "number": 1,
                "title": "党风廉政建设主体责任落实不到位",
                "status_word": "已完成",
                "details": (
                    "抓业务多、抓党建少；局机关提醒谈话不够严格；"
                    "用身边案例开展警示教育效果不明显。"
                ),
                "measures": (
                    "制订党风廉政建设和反腐败工作计划，局机关各内设机构自查廉政风险，"
                    "列出防控清单。出台提醒谈话制度，写明何种情形启动、由谁谈、谈谁，"
                    "谈后整改情况作为干部考核的参考。"
                    "召开全区教育系统党组织书记和校长会，"
                    "通报区纪委处分决定和效能暗访问题，以案示警。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 2,
                "title": "对师德师风监管不够到位，师德失范行为时有发生",
                "status_word": "已完成",
                "details": (
                    "教师酒驾仍有发生，违纪违法问题反复出现，“四风”问题没有根除。"
                ),
                "measures": (
                    "要求各校抓紧师德师风建设，畅通投诉举报渠道，健全监督机制；"
                    "各校对照督查内容逐人逐项排查，梳理问题和经验做法。"
                    "通报因违反工作纪律受处分的典型案例，并在全区书记、"
                    "校长会上通报区纪委处分决定，用身边事教育身边人。"
                ),
                "section": "personnel",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 3,
                "title": "财务管理不规范",
                "status_word": "已完成",
                "details": (
                    "有大额现金支付；专项资金管理较松、使用范围不清；"
                    "工会会费收缴不及时，生日慰问和会员活动支出不规范。"
                ),
                "measures": (
                    "自2025年起，中考体育考试监考费直接转入监考员银行卡，不再发放现金。"
                    "落实全省学前教育生均拨款最低标准，足额安排幼儿园公用经费、"
                    "不挤占挪用其收入，资金分配方案先经区财政局审核再按程序报批。"
                    "学习工会收支管理办法，规范会费和生日慰问；"
                    "每月底由分管纪检监察的领导核查当月报账手续。"
                ),
                "section": "finance",
                "deadline": date(2025, 6, 30),
            },
            {
                "number": 4,
                "title": "固定资产管理不规范",
                "status_word": "已完成",
                "details": "固定资产管得不细；在建工程完工后转为固定资产的手续不规范。",
                "measures": (
                    "委托第三方机构全面清点局本级资产，资产卡片贴标签管理，"
                    "做到账账相符、账实相符。已竣工学校先按不动产权证价值暂估入账，"
                    "待梅江区投资评审中心核定后再调整。"
                ),
                "section": "finance",
                "deadline": date(2025, 6, 30),
            },
            {
                "number": 5,
                "title": "内控制度建设不健全、执行不严格",
                "status_word": "已完成",
                "details": (
                    "慰问规定没有写明节日慰问标准；"
                    "局里没有严格按印章管理规定保管印章（已当即纠正）。"
                ),
                "measures": (
                    "学习工会收支管理办法，修订工会慰问制度，理顺慰问的程序、"
                    "手续和台账。法定代表人印章和计财股个人印章已交还本人保管，"
                    "今后严格按印章管理规定执行，防范财务风险。"
                ),
                "section": "finance",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 6,
                "title": "对下属学校的因私出国（境）管理监督不够规范",
                "status_word": "已完成",
                "details": (
                    "通报没有列出具体表现。从整改内容看，"
                    "部分教师因私出国（境）前没有办理审批、报备手续。"
                ),
                "measures": (
                    "组织学习国家工作人员因私出国（境）管理的政策文件，"
                    "修订本系统的管理制度。逐一核查未履行审批报备手续的教师，"
                    "要求其主动说明情况；审批、报备和返回报告各环节都作了规范。"
                ),
                "section": "personnel",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 7,
                "title": "处理历史遗留问题办法较少",
                "status_word": "长期坚持",
                "details": (
                    "通报没有列出具体表现。从整改内容看，"
                    "主要是部分学校的其他应付款长期挂账、迟迟未清理。"
                ),
                "measures": (
                    "相关学校逐笔核对长期挂账的其他应付款，补齐合同、协议、"
                    "收据等原始凭证。通过电话、邮件、函证、上门等方式联系对方单位，"
                    "确认款项状态并收集核销依据。"
                    "安排专人向区财政局相关股室请教账务调整办法，确保处理合法合规。"
                ),
                "section": "finance",
                "deadline": None,
            },
        ],
    },
    {
        "number": 4,
        "title": "政治引领意识不够强，党建工作不够重视",
        "problems": [
            {
                "number": 1,
                "title": "党内政治生活不严实",
                "status_word": "已完成",
                "details": (
                    "民主生活会不够严肃，民主评议党员不规范，会议记录有缺漏；"
                    "组织生活会不够规范，谈心谈话流于形式。"
                ),
                "measures": (
                    "组织班子成员和全体党员学习民主生活会、"
                    "组织生活会和民主评议党员的有关规定。会前按要求开展谈心谈话，"
                    "规范召开局党组民主生活会暨巡察整改专题民主生活会，"
                    "做好组织生活会和民主评议党员，会议全程留有记录。"
                ),
                "section": "office",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 2,
                "title": "干部选拔任用工作把关不够严格",
                "status_word": "已完成",
                "details": "干部考察材料不规范，考察文书没有及时归档。",
                "measures": (
                    "组织人事干部学习干部选拔任用工作条例等规定。"
                    "未归档的考察材料已整理入档，人事部门还对全部考察材料的规范性，"
                    "以及归档是否及时、完整做了一次自查。"
                ),
                "section": "personnel",
                "deadline": date(2025, 4, 26),
            },
            {
                "number": 3,
                "title": "学校中层干部队伍梯队建设不够合理",
                "status_word": "已完成",
                "details": (
                    "通报没有列出具体表现。从整改内容看，是学校后备干部储备不足，"
                    "中层管理团队的结构有待优化。"
                ),
                "measures": (
                    "由局领导班子成员带队、各股室负责人参加，"
                    "对全区公办学校开展专题调研，各校推荐年轻干部进入后备人才队伍。"
                    "逐校逐人分析行政管理团队，推动干部能上能下；"
                    "对后备干部实行动态管理和跟踪培养。"
                ),
                "section": "personnel",
                "deadline": date(2025, 6, 30),
            },
        ],
    },
]

# Illustrative public progress updates written for the demo (not from the notice).
PROGRESS_UPDATES: list[ProgressSpec] = [
    {
        "aspect": 2,
        "problem": 5,
        "published_on": date(2025, 3, 10),
        "body": (
            "春季学期开学前的安全检查已覆盖各挂钩学校和幼儿园，"
            "检查中发现的隐患已登记在册，正逐项整改、限期销号。"
        ),
    },
    {
        "aspect": 3,
        "problem": 4,
        "published_on": date(2025, 5, 30),
        "body": (
            "第三方机构对局本级资产的清点已经结束，资产卡片全部贴上标签。"
            "已竣工学校的资产暂按不动产权证价值入账，待投资评审中心核定后调整。"
        ),
    },
    {
        "aspect": 2,
        "problem": 6,
        "published_on": date(2025, 9, 1),
        "body": (
            "新学年开始，城区教师到乡村学校支教的安排继续执行；"
            "各校正在动员在职教师报考研究生学历，“双师型”教师培训按计划进行。"
        ),
    },
    {
        "aspect": 3,
        "problem": 7,
        "published_on": date(2025, 10, 15),
        "body": (
            "相关学校对长期挂账的其他应付款仍在逐笔核对，"
            "已联系上的对方单位正在确认款项状态；"
            "核销方案将在听取区财政局意见后按程序办理。"
        ),
    },
    {
        "aspect": 2,
        "problem": 7,
        "published_on": date(2025, 11, 5),
        "body": (
            "本年度民办幼儿园年检把专任教师持证上岗和“两教一保”配备作为重点，"
            "检查结果将写入各园的年检结论。"
        ),
    },
]

# Illustrative status history; every chain ends at the word published on 2025-07-08.
STATUS_CHANGES: list[StatusChangeSpec] = [
    {
        "aspect": 1,
        "problem": 1,
        "from_word": "正在整改",
        "to_word": "已完成",
        "effective_on": date(2025, 4, 20),
        "reason": "芹洋学校运动场已竣工启用，新增股室和编制均已获批，转为已完成。",
    },
    {
        "aspect": 2,
        "problem": 6,
        "from_word": "正在整改",
        "to_word": "长期坚持",
        "effective_on": date(2025, 4, 26),
        "reason": "专项招聘和学历提升需要多年持续推进，集中整改期结束后转为长期坚持。",
    },
    {
        "aspect": 3,
        "problem": 3,
        "from_word": "正在整改",
        "to_word": "已完成",
        "effective_on": date(2025, 5, 20),
        "reason": (
            "监考费改为银行转账，工会会费和慰问支出已规范，月底核查机制开始运行。"
        ),
    },
    {
        "aspect": 3,
        "problem": 4,
        "from_word": "正在整改",
        "to_word": "已完成",
        "effective_on": date(2025, 6, 15),
        "reason": "第三方资产清点完成，资产卡片全部贴标管理，账实核对一致。",
    },
    {
        "aspect": 2,
        "problem": 4,
        "from_word": "整改中",
        "to_word": "已完成",
        "effective_on": date(2025, 6, 20),
        "reason": (
            "附属学校项目的进展报送和审批绿色通道已运转，备考调研和专题讲座均已开展。"
        ),
    },
]

# Illustrative opinions whose replies the lead published (not from the notice).
# The people, numbers and addresses are made up; the authors' names, phone
# numbers and e-mail addresses are masked on publication, as in real use.
PUBLISHED_REPLIES: list[PublishedReplySpec] = [
    {
        "kind": "suggestion",
        "aspect": 2,
        "problem": 5,
        "subject": "学校门口放学时段车辆乱停",
        "body": (
            "我是附近居民陈志明，电话13712345678。江南片区一所小学放学时门口车辆乱停，"
            "学生过马路很危险，建议在上下学时段安排人员疏导。"
        ),
        "name": "陈志明",
        "phone": "13712345678",
        "email": None,
        "received_at": datetime(2025, 8, 4, 9, 20, tzinfo=BEIJING),
        "reply": (
            "陈先生：您好！收到您的建议后，我局会同学校和属地交警到现场查看。"
            "自9月开学起，学校在上下学时段安排值日教师和家长志愿者在校门口疏导，"
            "交警在路口增设了临时停车提示牌。办理结果已电话（13712345678）告知您，"
            "感谢您的监督。"
        ),
        "replied_at": datetime(2025, 8, 22, 16, 0, tzinfo=BEIJING),
        "published_at": datetime(2025, 8, 25, 10, 0, tzinfo=BEIJING),
    },
    {
        "kind": "opinion",
        "aspect": 3,
        "problem": 3,
        "subject": "代收资料费是否入账",
        "body": "学校代收的资料费是否都按规定入账？希望公开收支情况。",
        "name": "林晓燕",
        "phone": None,
        "email": "lin.xiaoyan@example.com",
        "received_at": datetime(2025, 9, 2, 20, 45, tzinfo=BEIJING),
        "reply": (
            "林女士：您好！经核查，该校本学期代收的资料费已全部纳入学校财务统一核算，"
            "收支明细已在校务公开栏公布，并已发送到您留下的邮箱"
            "lin.xiaoyan@example.com。今后各校代收费用每学期公示一次。"
        ),
        "replied_at": datetime(2025, 9, 26, 11, 30, tzinfo=BEIJING),
        "published_at": datetime(2025, 9, 28, 9, 0, tzinfo=BEIJING),
    },
    {
        "kind": "complaint",
        "aspect": 2,
        "problem": 6,
        "subject": "乡村学校英语课开不足",
        "body": "乡村学校英语老师长期缺，孩子一周只上两节英语课。",
        "name": None,
        "phone": None,
        "email": None,
        "received_at": datetime(2025, 10, 10, 8, 5, tzinfo=BEIJING),
        "reply": (
            "您好！经了解，该校今年有一名英语教师调离，新招聘的教师已于10月20日到岗，"
            "英语课已按课程方案开足开齐；城区学校的支教教师也每周到校上课。"
        ),
        "replied_at": datetime(2025, 10, 30, 17, 10, tzinfo=BEIJING),
        "published_at": datetime(2025, 11, 3, 9, 30, tzinfo=BEIJING),
    },
]
