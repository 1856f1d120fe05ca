"""Forming temporary classes (aggregates/class_forming.py): properties of the rule, then examples."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregates.class_forming import Applicant, ClassFormingError, FormedClass, form_temporary_classes


def home_class(grade: int, number: int, size: int, first_id: int = 0) -> list[Applicant]:
    return [Applicant(f"c{first_id + i:05d}", f"{grade}-{number}", grade) for i in range(size)]


def shape(classes: list[FormedClass]) -> list[tuple[str, tuple[str, ...], int, str]]:
    return [(c.code, c.home_classes, len(c.children), c.how) for c in classes]


@st.composite
def applicants(draw: st.DrawFn) -> list[Applicant]:
    """Grades 1-6 (some may be missing), 1-4 home classes each of 0-90 children, unique shuffled ids."""
    sizes = {
        (grade, number): draw(st.one_of(st.integers(0, 15), st.integers(0, 90)))
        for grade in sorted(draw(st.sets(st.integers(1, 6), min_size=1)))
        for number in range(1, draw(st.integers(1, 4)) + 1)
    }
    ids = [f"c{n:05d}" for n in range(sum(sizes.values()))]
    draw(st.randoms(use_true_random=False)).shuffle(ids)
    slots = [(grade, number) for (grade, number), size in sizes.items() for _ in range(size)]
    return [Applicant(child, f"{grade}-{number}", grade) for child, (grade, number) in zip(ids, slots, strict=True)]


capacities = st.one_of(st.sampled_from([5, 12, 40]), st.integers(1, 60))
rule = settings(max_examples=150, database=None, deadline=None)


@rule
@given(applicants(), capacities)
def test_every_applicant_is_placed_exactly_once_in_a_class_of_its_grade_and_home_class(people, capacity):
    classes = form_temporary_classes(people, capacity)
    placed = [child for c in classes for child in c.children]
    assert sorted(placed) == sorted(a.child_id for a in people)
    class_of = {child: c for c in classes for child in c.children}
    for a in people:
        assert a.grade in class_of[a.child_id].grades
        assert a.home_class in class_of[a.child_id].home_classes


@rule
@given(applicants(), capacities)
def test_no_class_is_empty_or_over_capacity_and_codes_are_unique(people, capacity):
    classes = form_temporary_classes(people, capacity)
    assert all(1 <= len(c.children) <= capacity for c in classes)
    assert len({c.code for c in classes}) == len(classes)
    for c in classes:
        assert c.code.startswith("G" + "-".join(map(str, c.grades)) + "-")
        assert list(c.grades) == sorted(set(c.grades))
        assert list(c.home_classes) == sorted(set(c.home_classes))
        assert list(c.children) == sorted(c.children)


@rule
@given(applicants(), capacities)
def test_a_home_class_of_capacity_or_more_stays_alone_in_the_fewest_even_classes(people, capacity):
    classes = form_temporary_classes(people, capacity)
    for name, size in Counter(a.home_class for a in people).items():
        theirs = [c for c in classes if name in c.home_classes]
        if size >= capacity:
            assert all(c.home_classes == (name,) and c.how == "own_class" for c in theirs)
            assert len(theirs) == -(-size // capacity)
            assert max(map(len, (c.children for c in theirs))) - min(len(c.children) for c in theirs) <= 1
        else:
            assert len(theirs) == 1


@rule
@given(applicants(), capacities)
def test_how_tells_which_step_formed_the_class(people, capacity):
    sizes = Counter(a.home_class for a in people)
    for c in form_temporary_classes(people, capacity):
        if c.how == "own_class":
            assert len(c.home_classes) == 1
        elif c.how == "merged_in_grade":
            assert len(c.grades) == 1 and len(c.home_classes) > 1
            assert all(sizes[name] < capacity for name in c.home_classes)
        else:
            assert c.how == "merged_grades" and len(c.grades) > 1


@rule
@given(applicants(), capacities)
def test_grades_mix_only_when_each_whole_grade_is_below_capacity_and_only_adjacent_ones(people, capacity):
    totals = Counter(a.grade for a in people)
    classes = form_temporary_classes(people, capacity)
    for c in classes:
        if len(c.grades) > 1:
            assert list(c.grades) == list(range(c.grades[0], c.grades[-1] + 1))
            assert all(totals[grade] < capacity for grade in c.grades)
    for grade, total in totals.items():
        if total < capacity:
            assert len([c for c in classes if grade in c.grades]) == 1


@rule
@given(applicants(), capacities)
def test_merging_stops_only_when_no_two_allowed_classes_fit_together(people, capacity):
    totals = Counter(a.grade for a in people)
    sizes = Counter(a.home_class for a in people)
    classes = form_temporary_classes(people, capacity)
    in_big_grades = [c for c in classes if totals[c.grades[0]] >= capacity and sizes[c.home_classes[0]] < capacity]
    of_small_grades = [c for c in classes if totals[c.grades[0]] < capacity]
    for a in in_big_grades:
        for b in in_big_grades:
            if a is not b and a.grades == b.grades:
                assert len(a.children) + len(b.children) > capacity
    for a in of_small_grades:
        for b in of_small_grades:
            if a.grades[-1] + 1 == b.grades[0]:
                assert len(a.children) + len(b.children) > capacity


@rule
@given(applicants(), capacities, st.randoms(use_true_random=False))
def test_the_same_applicants_in_any_order_give_the_same_classes(people, capacity, random):
    shuffled = list(people)
    random.shuffle(shuffled)
    assert form_temporary_classes(shuffled, capacity) == form_temporary_classes(people, capacity)


@rule
@given(st.permutations(home_class(1, 1, 7) + home_class(1, 2, 3, 100) + home_class(2, 1, 5, 200)))
def test_any_permutation_of_a_small_school_gives_the_same_classes(people):
    assert shape(form_temporary_classes(people, 12)) == [
        ("G1-A", ("1-1", "1-2"), 10, "merged_in_grade"),
        ("G2-A", ("2-1",), 5, "own_class"),
    ]


def test_45_children_of_one_home_class_form_two_own_classes_of_23_and_22():
    classes = form_temporary_classes(home_class(3, 1, 45))
    assert shape(classes) == [("G3-A", ("3-1",), 23, "own_class"), ("G3-B", ("3-1",), 22, "own_class")]
    assert classes[0].children < classes[1].children


def test_the_two_smallest_home_classes_of_a_grade_merge_while_they_fit():
    people = home_class(2, 1, 10) + home_class(2, 2, 12, 100) + home_class(2, 3, 30, 200)
    assert shape(form_temporary_classes(people)) == [
        ("G2-A", ("2-1", "2-2"), 22, "merged_in_grade"),
        ("G2-B", ("2-3",), 30, "own_class"),
    ]


def test_the_smallest_home_class_joins_the_next_smallest_not_the_first_named():
    people = home_class(2, 1, 20) + home_class(2, 2, 25, 100) + home_class(2, 3, 15, 200)
    assert shape(form_temporary_classes(people)) == [
        ("G2-A", ("2-1", "2-3"), 35, "merged_in_grade"),
        ("G2-B", ("2-2",), 25, "own_class"),
    ]


def test_a_grade_whose_home_classes_all_fit_becomes_one_class():
    people = home_class(4, 1, 10) + home_class(4, 2, 10, 100) + home_class(4, 3, 10, 200) + home_class(4, 4, 10, 300)
    assert shape(form_temporary_classes(people)) == [("G4-A", ("4-1", "4-2", "4-3", "4-4"), 40, "merged_in_grade")]


def test_two_small_adjacent_grades_merge():
    people = home_class(5, 1, 15) + home_class(6, 1, 20, 100)
    assert shape(form_temporary_classes(people)) == [("G5-6-A", ("5-1", "6-1"), 35, "merged_grades")]


def test_three_small_grades_in_a_row_can_become_one_class():
    people = home_class(1, 1, 10) + home_class(2, 1, 10, 100) + home_class(3, 1, 10, 200)
    assert shape(form_temporary_classes(people)) == [("G1-2-3-A", ("1-1", "2-1", "3-1"), 30, "merged_grades")]


def test_grades_that_are_not_adjacent_never_merge():
    people = home_class(2, 1, 10) + home_class(4, 1, 10, 100)
    assert shape(form_temporary_classes(people)) == [
        ("G2-A", ("2-1",), 10, "own_class"),
        ("G4-A", ("4-1",), 10, "own_class"),
    ]


def test_of_two_fitting_neighbours_the_smaller_total_wins_and_a_tie_goes_to_the_lower_grades():
    tie = home_class(1, 1, 10) + home_class(2, 1, 25, 100) + home_class(3, 1, 10, 200)
    assert [c.code for c in form_temporary_classes(tie)] == ["G1-2-A", "G3-A"]
    smaller = home_class(1, 1, 30) + home_class(2, 1, 5, 100) + home_class(3, 1, 8, 200)
    assert shape(form_temporary_classes(smaller)) == [
        ("G1-A", ("1-1",), 30, "own_class"),
        ("G2-3-A", ("2-1", "3-1"), 13, "merged_grades"),
    ]


def test_the_leftover_of_a_grade_of_capacity_or_more_stays_in_its_grade():
    people = home_class(3, 1, 45) + home_class(3, 2, 10, 100) + home_class(4, 1, 10, 200)
    assert shape(form_temporary_classes(people)) == [
        ("G3-A", ("3-1",), 23, "own_class"),
        ("G3-B", ("3-1",), 22, "own_class"),
        ("G3-C", ("3-2",), 10, "own_class"),
        ("G4-A", ("4-1",), 10, "own_class"),
    ]


def test_codes_go_on_past_z():
    codes = [c.code for c in form_temporary_classes(home_class(1, 1, 28), capacity=1)]
    assert codes[:2] == ["G1-A", "G1-B"] and codes[25:] == ["G1-Z", "G1-AA", "G1-AB"]


def test_no_applicants_form_no_classes():
    assert form_temporary_classes([]) == []


def test_a_child_applying_twice_is_refused():
    twice = home_class(1, 1, 3) + [Applicant("c00001", "1-2", 1)]
    with pytest.raises(ClassFormingError, match="c00001"):
        form_temporary_classes(twice)


@pytest.mark.parametrize("capacity", [0, -1])
def test_a_capacity_below_one_is_refused(capacity):
    with pytest.raises(ClassFormingError):
        form_temporary_classes(home_class(1, 1, 3), capacity)


def test_a_home_class_in_two_grades_is_refused():
    with pytest.raises(ClassFormingError, match="1-1"):
        form_temporary_classes(home_class(1, 1, 3) + [Applicant("other", "1-1", 2)])
