from rerankd.batching import plan_batches


def test_every_item_lands_in_exactly_one_batch():
    lengths = [5, 300, 20, 20, 7, 1000, 64]
    batches = plan_batches(lengths, max_batch_tokens=600, max_batch_size=3)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))


def test_batches_respect_the_padded_token_budget_and_size():
    lengths = [10, 200, 30, 30, 90, 120, 5, 60]
    for batch in plan_batches(lengths, max_batch_tokens=250, max_batch_size=3):
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 250


def test_an_item_over_the_budget_runs_alone():
    assert plan_batches([5000, 10, 10], max_batch_tokens=100) == [[0], [1, 2]]


def test_items_are_sorted_by_length_to_cut_padding():
    batches = plan_batches([1, 100, 2, 99], max_batch_tokens=400, max_batch_size=2)
    assert batches == [[1, 3], [2, 0]]


def test_padding_stays_a_small_part_of_each_batch():
    lengths = [700, 690, 650, 300, 280, 260, 40, 35, 30, 20]
    batches = plan_batches(lengths, max_batch_tokens=100_000, max_batch_size=64)
    assert [sorted(batch) for batch in batches] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    for batch in batches:
        padded = len(batch) * max(lengths[i] for i in batch)
        assert padded - sum(lengths[i] for i in batch) <= max(0.25 * padded, 64)
