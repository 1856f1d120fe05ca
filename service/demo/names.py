"""Fictitious Chinese names for the demo school: common one-character surnames, compound surnames (复姓), and long
names of minority nationalities written as people write them (given name · father's name). The names are made up by
combining parts; any likeness to a real child is chance. They are sealed like real names."""

from __future__ import annotations

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐韩冯邓曹彭曾"
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "皇甫", "令狐", "公孙", "尉迟")
GIVEN = (
    "子轩 梓涵 浩然 欣怡 一诺 雨泽 佳怡 宇航 思远 诗涵 俊杰 若汐 明轩 语桐 天佑 可馨 博文 紫萱 嘉懿 沐宸 "
    "芷若 皓轩 雅琪 晨阳 书瑶 泽宇 梦琪 逸飞 安然 睿哲"
).split()
MINORITY = (  # (given name, father's name): Uyghur, Tibetan, Mongolian, Kazakh, Hui
    ("阿依古丽", "买买提明"),
    ("热依汗古丽", "艾尔肯江"),
    ("阿卜杜热合曼", "吐尔逊托合提"),
    ("扎西", "次仁多吉"),
    ("巴特尔", "额尔敦巴雅尔"),
    ("古丽娜尔", "努尔兰别克"),
)
PARENT_GIVEN = "建国 秀英 志强 丽华 海燕 卫东 桂芳 国庆 晓梅 永刚 淑珍 伟".split()


def child_name(number: int) -> tuple[str, str]:
    """(family name, given name) of demo child number `number`; one in twelve has a compound surname, one in
    twenty a minority name written whole (the family name is then empty)."""
    if number % 20 == 7:
        given, father = MINORITY[number // 20 % len(MINORITY)]
        return "", f"{given}·{father}"
    family = COMPOUND[number // 12 % len(COMPOUND)] if number % 12 == 5 else SURNAMES[number * 7 % len(SURNAMES)]
    return family, GIVEN[number * 11 % len(GIVEN)]


def guardian_names(number: int) -> tuple[str, str]:
    """The full names of the child's first guardian (the mother) and second (the father, who shares the child's
    surname)."""
    family, given = child_name(number)
    if not family:  # a minority name: the father's name is the child's second part
        father = given.split("·", 1)[1]
        return (
            f"{MINORITY[(number + 1) % len(MINORITY)][0]}·{father}",
            f"{father}·{MINORITY[number % len(MINORITY)][1]}",
        )
    mother = SURNAMES[(number * 3 + 5) % len(SURNAMES)] + PARENT_GIVEN[number % len(PARENT_GIVEN)]
    return mother, family + PARENT_GIVEN[(number + 5) % len(PARENT_GIVEN)]
