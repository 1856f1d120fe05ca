"""Forming temporary classes (临时班) from the children staying for after-school care.

The plan's rule: "40 or more children from one home class stay as their own class; fewer than 40
are merged with the smallest class of the same grade; if a whole grade has fewer than 40, adjacent
grades are merged." Pinned down here, with `capacity` for 40, in the rule's own order:

1. Own classes. A home class with `capacity` or more applicants forms its own class(es): split into
   the fewest classes of at most `capacity`, as evenly as possible (45 -> 23 + 22), the children
   taken in id order. These classes are final and take no one else.
2. Within the grade. The other home classes of a grade (each below `capacity`) start as one group
   each. Repeatedly the two smallest groups of the grade (ties by home-class names) are merged while
   their total is at most `capacity`; when the two smallest do not fit, no two do, and merging stops.
3. Across adjacent grades. Only a grade whose whole applicant count is below `capacity` takes part
   (step 2 has made it a single class). Repeatedly, of the pairs of such classes whose grades are
   adjacent (the highest grade of one plus 1 is the lowest of the other; a grade with no applicants
   breaks adjacency) and whose total is at most `capacity`, the pair with the smallest total is
   merged, ties to the lower grades; this repeats, so three small grades in a row may become one.
   A grade with `capacity` or more applicants never mixes with another grade, even its leftovers.

`how` says which step formed a class: "merged_grades" (step 3, several grades), "merged_in_grade"
(step 2, several home classes of one grade) or "own_class" (one home class alone: step 1, or a home
class below capacity that nothing fitted with). The code is "G" + the grades joined by "-" + a letter
(A..Z, AA..) counting the classes of those grades ordered by home classes then children, so it
depends on the content only: the same applicants in any order give the same classes, in the same order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

OWN_CLASS = "own_class"
MERGED_IN_GRADE = "merged_in_grade"
MERGED_GRADES = "merged_grades"


@dataclass(frozen=True)
class Applicant:
    """A child staying for after-school care, with the home class and grade it comes from."""

    child_id: str
    home_class: str
    grade: int


@dataclass(frozen=True)
class FormedClass:
    """A temporary class: its stable code, where its children come from, and which step formed it."""

    code: str
    grades: tuple[int, ...]
    home_classes: tuple[str, ...]
    children: tuple[str, ...]
    how: str


class ClassFormingError(ValueError):
    """The applicants or the capacity cannot be formed into temporary classes."""


@dataclass(frozen=True)
class _Group:
    grades: tuple[int, ...]
    home_classes: tuple[str, ...]
    children: tuple[str, ...]
    how: str

    @property
    def size(self) -> int:
        return len(self.children)


def form_temporary_classes(applicants: Sequence[Applicant], capacity: int = 40) -> list[FormedClass]:
    """Form the temporary classes of at most `capacity` children by the rule in this module's docstring."""
    _check(applicants, capacity)
    grade_totals = Counter(a.grade for a in applicants)
    groups: list[_Group] = []
    small_grades: list[_Group] = []
    for grade, home_classes in sorted(_home_classes_by_grade(applicants).items()):
        own, rest = _own_classes(grade, home_classes, capacity)
        merged = _merge_within_grade(rest, capacity)
        groups += own
        if grade_totals[grade] < capacity:
            small_grades += merged
        else:
            groups += merged
    return _with_codes(groups + _merge_adjacent_grades(small_grades, capacity))


def _check(applicants: Sequence[Applicant], capacity: int) -> None:
    if capacity < 1:
        raise ClassFormingError(f"A temporary class must have room for at least one child, not {capacity}.")
    ids = Counter(a.child_id for a in applicants)
    twice = sorted(child for child, count in ids.items() if count > 1)
    if twice:
        raise ClassFormingError(f"These children applied more than once: {', '.join(twice)}.")
    grades_of: defaultdict[str, set[int]] = defaultdict(set)
    for a in applicants:
        grades_of[a.home_class].add(a.grade)
    mixed = sorted(home_class for home_class, grades in grades_of.items() if len(grades) > 1)
    if mixed:
        raise ClassFormingError(f"These home classes are given with more than one grade: {', '.join(mixed)}.")


def _home_classes_by_grade(applicants: Sequence[Applicant]) -> dict[int, dict[str, list[str]]]:
    by_grade: defaultdict[int, defaultdict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for a in applicants:
        by_grade[a.grade][a.home_class].append(a.child_id)
    return {grade: dict(classes) for grade, classes in by_grade.items()}


def _own_classes(grade: int, home_classes: dict[str, list[str]], capacity: int) -> tuple[list[_Group], list[_Group]]:
    """Step 1: split the big home classes into own classes; the others become one group each."""
    own: list[_Group] = []
    rest: list[_Group] = []
    for home_class, children in sorted(home_classes.items()):
        parts = _split_evenly(sorted(children), capacity)
        target = own if len(children) >= capacity else rest
        target += [_Group((grade,), (home_class,), tuple(part), OWN_CLASS) for part in parts]
    return own, rest


def _split_evenly(children: list[str], capacity: int) -> list[list[str]]:
    count = -(-len(children) // capacity)
    base, extra = divmod(len(children), count)
    sizes = [base + 1] * extra + [base] * (count - extra)
    return [children[start : start + size] for start, size in zip(accumulate([0, *sizes]), sizes, strict=False)]


def _merge_within_grade(groups: list[_Group], capacity: int) -> list[_Group]:
    """Step 2: merge the two smallest groups of the grade while they fit."""
    groups = sorted(groups, key=_smallest_first)
    while len(groups) > 1 and groups[0].size + groups[1].size <= capacity:
        merged = _join(groups[0], groups[1], MERGED_IN_GRADE)
        groups = sorted([merged, *groups[2:]], key=_smallest_first)
    return groups


def _merge_adjacent_grades(groups: list[_Group], capacity: int) -> list[_Group]:
    """Step 3: merge the fitting pair of adjacent small grades with the smallest total, ties to the lower."""
    groups = sorted(groups, key=lambda g: g.grades)
    while True:
        pairs = [
            (a.size + b.size, a.grades, i)
            for i, (a, b) in enumerate(zip(groups, groups[1:], strict=False))
            if a.grades[-1] + 1 == b.grades[0] and a.size + b.size <= capacity
        ]
        if not pairs:
            return groups
        i = min(pairs)[2]
        groups[i : i + 2] = [_join(groups[i], groups[i + 1], MERGED_GRADES)]


def _smallest_first(group: _Group) -> tuple[int, tuple[str, ...]]:
    return group.size, group.home_classes


def _join(a: _Group, b: _Group, how: str) -> _Group:
    grades = tuple(sorted({*a.grades, *b.grades}))
    return _Group(grades, tuple(sorted(a.home_classes + b.home_classes)), tuple(sorted(a.children + b.children)), how)


def _with_codes(groups: list[_Group]) -> list[FormedClass]:
    ordered = sorted(groups, key=lambda g: (g.grades, g.home_classes, g.children))
    counted: Counter[tuple[int, ...]] = Counter()
    formed = []
    for g in ordered:
        code = f"G{'-'.join(map(str, g.grades))}-{_letters(counted[g.grades])}"
        counted[g.grades] += 1
        formed.append(FormedClass(code, g.grades, g.home_classes, g.children, g.how))
    return formed


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: enough letters for any number of classes."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
