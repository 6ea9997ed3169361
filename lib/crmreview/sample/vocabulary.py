"""The words and the shape of the sample: every label the generator writes and the knobs that
set how much of each thing there is.

Owns the canonical codes (``STAGES`` with ``LEAD`` … ``LOST``, ``OUTCOMES`` with ``O_OPEN`` …
``O_LOST``), the labels written into the CSVs (``REGIONS``, ``CITIES``, ``INDUSTRIES``,
``SIZE_BANDS``, ``CHANNELS``, ``PIPELINES``, ``LOST_REASONS``, ``ACTIVITY_KINDS``), the words
that make company and person names (``INDUSTRY_WORDS_*``, ``BRANDS_*``, ``FORMS_*``,
``SURNAMES_ZH``, ``GIVEN_ZH``, ``FIRST_EN``, ``LAST_EN``, ``TEAM_REGIONS``, ``zh_number``), the
probabilities and effects that go with them (``*_P``, ``SIZE_VALUE``, ``SIZE_SLOW``,
``SIZE_SKILL``, ``CHANNEL_SKILL``) and the shape knobs (``CUSTOMERS_PER_SIZE``, ``PRE_SHARE``,
``VALUE_SIGMA``, ``DEALS_PRE``, ``DEALS_NEW``, ``ORDER_RATE``, ``ORDER_RATE_EXP``,
``BUYING_LIFE_DAYS``).

An integer code indexes its tuple of labels (``REGIONS[code]``); the writer turns codes into
labels, and a negative code into an empty field. Changing any value here changes the data.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- shape knobs ---------

CUSTOMERS_PER_SIZE = 2_000  # customers at size=1
PRE_SHARE = 0.5  # customers created before the window
VALUE_SIGMA = 0.7  # customer value: lognormal x size band
DEALS_PRE = 4.7  # deals over the window for an existing customer of median value
DEALS_NEW = 3.1  # further deals for a new customer (besides the first), prorated
ORDER_RATE = 10.0  # repeat orders per year for a median buyer
ORDER_RATE_EXP = 0.35  # ... growing with value to this power
BUYING_LIFE_DAYS = 600.0  # mean time before a buyer stops buying

# ---------------------------------------------------------------- canonical codes -----

STAGES = ("lead", "qualified", "proposal", "won", "lost")
LEAD, QUALIFIED, PROPOSAL, WON, LOST = range(5)
OUTCOMES = ("open", "won", "lost")
O_OPEN, O_WON, O_LOST = range(3)

# ---------------------------------------------------------------- customers -----------

REGIONS = ("华东", "华南", "华北", "西南", "华中", "西北", "东北")
REGION_P = (0.34, 0.24, 0.18, 0.10, 0.08, 0.03, 0.03)
CITIES = {
    "华东": ("上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "济南", "青岛", "福州", "厦门"),
    "华南": ("广州", "深圳", "佛山", "东莞", "珠海", "南宁", "海口"),
    "华北": ("北京", "天津", "石家庄", "太原", "呼和浩特"),
    "西南": ("成都", "重庆", "昆明", "贵阳"),
    "华中": ("武汉", "长沙", "郑州", "南昌"),
    "西北": ("西安", "兰州", "银川", "乌鲁木齐"),
    "东北": ("沈阳", "大连", "长春", "哈尔滨"),
}

INDUSTRIES = ("制造业", "批发零售", "物流", "信息技术", "医疗健康", "教育", "建筑工程", "餐饮酒店", "金融服务")
INDUSTRY_P = (0.22, 0.20, 0.12, 0.14, 0.08, 0.05, 0.08, 0.06, 0.05)
#: words for a company's line of business, one tuple per industry (same order as INDUSTRIES)
INDUSTRY_WORDS_ZH = (
    ("机械", "电子", "精密制造", "新材料", "汽车配件"),
    ("贸易", "商贸", "百货", "进出口"),
    ("物流", "供应链", "运输", "仓储"),
    ("科技", "信息技术", "软件", "网络科技"),
    ("医疗器械", "生物科技", "医药", "健康科技"),
    ("教育科技", "培训", "文化"),
    ("建设工程", "建材", "装饰工程"),
    ("餐饮管理", "酒店管理", "食品"),
    ("投资", "融资租赁", "保险代理"),
)
INDUSTRY_WORDS_EN = (
    ("Manufacturing", "Precision", "Electronics", "Machinery"),
    ("Trading", "Import & Export", "Retail"),
    ("Logistics", "Supply Chain", "Freight"),
    ("Technologies", "Software", "Digital"),
    ("Medical", "Biotech", "Healthcare"),
    ("Education", "Learning"),
    ("Construction", "Building Materials"),
    ("Foods", "Hospitality"),
    ("Capital", "Leasing"),
)
BRANDS_ZH = (
    "华联",
    "恒信",
    "鑫源",
    "东方",
    "新创",
    "长江",
    "金桥",
    "宏达",
    "永盛",
    "天成",
    "瑞丰",
    "博远",
    "嘉禾",
    "中科",
    "汇通",
    "德润",
    "万隆",
    "海川",
    "启明",
    "安泰",
    "众诚",
    "远航",
    "星辰",
    "兴业",
    "华泰",
    "立信",
    "正和",
    "美达",
    "锦程",
    "九州",
    "盛世",
    "同创",
    "明珠",
    "优品",
    "睿达",
    "佳禾",
    "宝丰",
    "中瑞",
    "凯越",
    "泰和",
)
FORMS_ZH = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
FORMS_ZH_P = (0.70, 0.15, 0.10, 0.05)
BRANDS_EN = (
    "Acme",
    "Apex",
    "Summit",
    "Blue River",
    "Golden Gate",
    "Pacific Rim",
    "Evergreen",
    "Northstar",
    "Silverline",
    "Harbor",
    "Redwood",
    "Orion",
    "Sterling",
    "Zenith",
    "Horizon",
    "Pioneer",
    "Lotus",
    "Jade",
    "Dragon Gate",
    "Phoenix",
    "Meridian",
    "Crescent",
    "Atlas",
    "Vertex",
)
FORMS_EN = ("Ltd", "Co., Ltd.", "Inc.", "Limited", "Group")
FORMS_EN_P = (0.35, 0.30, 0.15, 0.12, 0.08)
ENGLISH_CUSTOMER_SHARE = 0.25

SIZE_BANDS = ("1-49", "50-199", "200-999", "1000+")
SIZE_BAND_P = (0.45, 0.30, 0.18, 0.07)
SIZE_VALUE = np.array([1.0, 2.0, 4.0, 8.0])  # value multiplier
SIZE_SLOW = np.array([1.0, 1.2, 1.5, 1.9])  # sales-cycle multiplier
SIZE_SKILL = np.array([0.10, 0.0, -0.10, -0.25])  # bigger customers are harder to win

#: channel, share of customers, conversion offset (logit, per stage)
CHANNELS = ("转介绍", "合作伙伴", "展会", "官网", "电话营销")
CHANNEL_P = (0.14, 0.10, 0.20, 0.31, 0.25)
CHANNEL_SKILL = np.array([1.0, 0.45, 0.20, 0.0, -0.85])

# ---------------------------------------------------------------- deals and activities

PIPELINES = ("新客户开发", "老客户增购")
LOST_REASONS = ("价格", "竞品", "预算不足", "无回应", "需求不匹配", "决策延期")
R_NO_RESPONSE = 3
#: lost-reason probabilities by the furthest stage reached (lead, qualified, proposal)
LOST_REASON_P = (
    (0.10, 0.10, 0.20, 0.45, 0.15, 0.00),
    (0.20, 0.25, 0.25, 0.15, 0.15, 0.00),
    (0.40, 0.30, 0.15, 0.05, 0.00, 0.10),
)
ACTIVITY_KINDS = ("call", "wechat", "visit", "email")
ACTIVITY_KIND_P = (0.38, 0.30, 0.17, 0.15)

# ---------------------------------------------------------------- reps ----------------

#: region of the n-th team (cycled); team names are region + 一组/二组 …
TEAM_REGIONS = ("华东", "华南", "华北", "西南", "华东", "华中", "华南", "华北", "东北", "西北")
SURNAMES_ZH = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
)
GIVEN_ZH = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "晓东",
    "海燕",
    "志强",
    "建华",
    "婷婷",
    "宇航",
    "思远",
    "佳怡",
    "子豪",
    "雨欣",
    "浩然",
    "欣怡",
    "俊杰",
)
FIRST_EN = (
    "Emily",
    "David",
    "Kevin",
    "Grace",
    "Michael",
    "Sophia",
    "Jason",
    "Linda",
    "Eric",
    "Amy",
    "Tony",
    "Cathy",
    "Leo",
    "Nina",
    "Frank",
    "Helen",
)
LAST_EN = ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Lin")
ENGLISH_REP_SHARE = 0.2


def zh_number(n: int) -> str:
    """``n`` in Chinese numerals for 0..99 (一, 十二, 二十): the team number in 华东二组."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)
