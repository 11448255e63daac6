"""Plausible Chinese names of people and places, drawn from a seeded RNG.

Surnames follow their rough frequency (王, 李, 张 and 刘 are a quarter of
the population); given names follow the fashions of the person's birth
decade and sex (a 1950s 桂兰 or 建国, a 2010s 梓涵 or 浩宇). Place names are
two syllables of rural northwest China with a suffix (镇, 乡, 村, 沟, 坪).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")

# Surnames with their rough share of the population (per mille).
_SURNAME_TABLE = (
    "王71 李70 张66 刘54 陈45 杨31 赵23 黄22 吴20 周19 徐17 孙15 马15 朱13 胡13 郭12 何12"
    " 高11 林11 罗9 郑9 梁9 谢8 宋8 唐7 许7 韩7 冯7 邓7 曹6 彭6 曾6 肖5 田5 董5 袁5 潘5"
    " 于5 蒋4 蔡4 余4 杜4 叶4 程4 苏4 魏4 吕4 丁4 任4 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3"
    " 范3 金3 石3 廖3 贾3 夏3 付2 方2 白2 邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2"
    " 龙2 史2 陶2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 武2 戴2 孔1 向1 汤1 党1 寇1 权1"
)
_SURNAMES = _SURNAME_TABLE.split()
SURNAMES = tuple(entry[0] for entry in _SURNAMES)
_SURNAME_CUM = tuple(accumulate(int(entry[1:]) for entry in _SURNAMES))
_SURNAME_TOTAL = _SURNAME_CUM[-1]

# Given-name characters by era (birth year before 1960, 1960-1984, from 1985) and sex.
_GIVEN = {
    ("old", "male"): "建国华明德福财贵富全忠义文武兴旺金山林海生春成田有发玉清志永",
    ("old", "female"): "秀英兰桂芳珍凤花梅玉莲翠香琴淑素云芝娥菊霞彩巧荣",
    ("mid", "male"): "军伟勇强涛斌波峰辉刚平东亮杰磊鹏宏俊永红卫鑫建新利锋",
    ("mid", "female"): "丽红艳燕娟霞萍静敏玲芳莉娜慧晓琳小丹洁雪丽英",
    ("new", "male"): "浩宇轩子豪博文泽睿晨阳航俊佳一鑫哲凯瑞恒鹏煜昊然旭",
    ("new", "female"): "欣怡梓涵雨萱佳琪可馨思彤诗悦紫妍心若汐语瑶嘉雪晴宁",
}

# Place names: a first syllable (a direction, a tree, a colour, a size) and
# a second of the loess country's terrain (塬 tableland, 峪 gorge, 坪 flat).
_FIRST = "东西南北上下前后大小新马杨柳槐榆杏桃枣青龙金石红高太永长安宁丰兴凤汤齐横"
_TERRAIN = "坡塬川河沟峪岭湾营堡寨坪渠泉庄店桥原山"
_VILLAGE_FORMS = ("家村", "家村", "家庄村", "家堡村", "家沟村", "家湾村")


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """One of `items`, uniformly (cheaper than rng.choice in the hot loops)."""
    return items[int(rng.random() * len(items))]


def surname(rng: random.Random) -> str:
    """A surname, drawn by frequency."""
    return SURNAMES[bisect(_SURNAME_CUM, rng.random() * _SURNAME_TOTAL)]


def _era(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    return "mid" if birth_year < 1985 else "new"


def given_name(rng: random.Random, *, birth_year: int, sex: str) -> str:
    """One or two characters in the fashion of the birth year; older people
    more often have two (建国, 秀英), the young often one (浩, 欣) or two."""
    chars = _GIVEN[(_era(birth_year), sex)]
    first = pick(rng, chars)
    if rng.random() < (0.85 if birth_year < 1985 else 0.6):
        return first + pick(rng, chars)
    return first


def person_name(rng: random.Random, family: str, *, birth_year: int, sex: str) -> str:
    return family + given_name(rng, birth_year=birth_year, sex=sex)


def place_stem(rng: random.Random) -> str:
    """Two syllables, e.g. 槐塬, 青峪."""
    return pick(rng, _FIRST) + pick(rng, _TERRAIN)


def town_name(rng: random.Random, used: set[str]) -> str:
    """A town (镇) or township (乡) name not in `used` (added to it)."""
    while True:
        name = place_stem(rng) + ("乡" if rng.random() < 0.2 else "镇")
        if name not in used:
            used.add(name)
            return name


def village_name(rng: random.Random, used: set[str]) -> str:
    """A village name not in `used` (added to it): 杨家庄村, 马坪村, 东河村."""
    while True:
        if rng.random() < 0.4:
            name = surname(rng) + pick(rng, _VILLAGE_FORMS)
        else:
            name = place_stem(rng) + "村"
        if name not in used:
            used.add(name)
            return name
