import unittest
from collections import OrderedDict

from snakebridge_worker import DEFAULTS
from snakebridge_worker.errors import BridgeError
from snakebridge_worker.registry import Registry


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingRefs(OrderedDict):
    """A session's refs that count the entries every iteration over them visits."""

    def __init__(self):
        super().__init__()
        self.visits = 0

    def _counted(self, entries):
        for entry in entries:
            self.visits += 1
            yield entry

    def __iter__(self):
        return self._counted(super().__iter__())

    def __reversed__(self):
        return self._counted(super().__reversed__())

    def keys(self):
        return self._counted(super().keys())

    def values(self):
        return self._counted(super().values())

    def items(self):
        return self._counted(super().items())


class RegistryTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock()
        self.registry = Registry(DEFAULTS, clock=self.clock)

    def assert_error(self, fn, code, **details):
        with self.assertRaises(BridgeError) as caught:
            fn()
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        for key, value in details.items():
            self.assertEqual(caught.exception.details[key], value)
        return caught.exception

    def test_released_ref_fails_with_reason_released(self):
        ref = self.registry.add("s", "obj")
        self.assertEqual(self.registry.release("s", [ref]), [True])
        self.assert_error(lambda: self.registry.resolve("s", ref), "ref_not_found", reason="released", ref_id=ref)

    def test_releasing_an_unknown_or_released_ref_reports_false(self):
        ref = self.registry.add("s", "obj")
        self.assertEqual(self.registry.release("s", [ref, ref, "never-issued"]), [True, False, False])

    def test_an_id_never_issued_is_unknown(self):
        self.registry.add("s", "obj")
        self.assert_error(lambda: self.registry.resolve("s", "f" * 32), "ref_not_found", reason="unknown")

    def test_release_session_matches_exactly_never_by_prefix(self):
        mine = self.registry.add("a", 1)
        other = self.registry.add("a:b", 2)
        self.assertEqual(self.registry.release_session("a"), 1)
        self.assertEqual(self.registry.resolve("a:b", other), 2)
        self.assert_error(lambda: self.registry.resolve("a", mine), "ref_not_found", reason="session_released")

    def test_ref_of_another_session_is_a_session_mismatch_and_stays_intact(self):
        ref = self.registry.add("a", "secret")
        self.registry.add("b", "other")
        self.assert_error(lambda: self.registry.resolve("b", ref), "session_mismatch",
                          expected_session_id="b", actual_session_id="a", ref_id=ref)
        self.assert_error(lambda: self.registry.release("b", [ref]), "session_mismatch")
        self.assertEqual(self.registry.resolve("a", ref), "secret")

    def test_reset_session_releases_everything_and_keeps_the_limits_under_a_new_id(self):
        self.registry.open_session("a", {"max_refs": 5})
        ref = self.registry.add("a", 1)
        self.registry.add("other", 2)
        self.assertEqual(self.registry.reset_session("a", "a2"), 1)
        self.assert_error(lambda: self.registry.resolve("a", ref), "ref_not_found", reason="session_released")
        info = self.registry.session_info("a2")
        self.assertEqual((info["live_refs"], info["limits"]["max_refs"], info["worker_live_refs"]), (0, 5, 1))
        self.assert_error(lambda: self.registry.reset_session("a2", "other"), "invalid_argument")

    def test_max_refs_is_per_session_and_rejects_by_default(self):
        self.registry.open_session("a", {"max_refs": 2})
        self.registry.add("a", 1)
        self.registry.add("a", 2)
        self.assert_error(lambda: self.registry.add("a", 3), "ref_limit", limit=2, setting="max_refs")
        self.registry.add("b", 4)  # another session has its own budget
        self.assertEqual(self.registry.session_info("a")["live_refs"], 2)

    def test_evict_lru_policy_evicts_the_least_recently_used(self):
        self.registry.open_session("a", {"max_refs": 2, "ref_limit_policy": "evict_lru"})
        first = self.registry.add("a", 1)
        second = self.registry.add("a", 2)
        self.registry.resolve("a", first)  # first is now the most recently used
        self.registry.add("a", 3)
        self.assertEqual(self.registry.resolve("a", first), 1)
        self.assert_error(lambda: self.registry.resolve("a", second), "ref_not_found", reason="evicted")

    def test_idle_ref_expires_after_ttl_and_use_renews_it(self):
        self.registry.open_session("a", {"ref_ttl_seconds": 10})
        kept = self.registry.add("a", 1)
        dropped = self.registry.add("a", 2)
        self.clock.now += 6
        self.registry.resolve("a", kept)
        self.clock.now += 6
        self.assertEqual(self.registry.resolve("a", kept), 1)
        self.assert_error(lambda: self.registry.resolve("a", dropped), "ref_not_found", reason="expired")

    def test_ttl_zero_means_refs_never_expire(self):
        ref = self.registry.add("a", 1)
        self.clock.now += 10 ** 9
        self.assertEqual(self.registry.resolve("a", ref), 1)

    def test_invalid_limits_are_rejected_with_the_known_names(self):
        self.assert_error(lambda: self.registry.open_session("a", {"max_refs": 0}), "invalid_argument")
        self.assert_error(lambda: self.registry.open_session("a", {"ref_limit_policy": "lru"}), "invalid_argument")
        self.assert_error(lambda: self.registry.open_session("a", {"bogus": 1}), "invalid_argument")

    def test_tombstones_are_bounded(self):
        registry = Registry(dict(DEFAULTS, tombstone_capacity=3), clock=self.clock)
        ids = [registry.add("a", i) for i in range(5)]
        registry.release("a", ids)
        self.assert_error(lambda: registry.resolve("a", ids[0]), "ref_not_found", reason="unknown")
        self.assert_error(lambda: registry.resolve("a", ids[4]), "ref_not_found", reason="released")

    def test_the_oldest_tombstone_goes_first_once_the_ring_wraps(self):
        registry = Registry(dict(DEFAULTS, tombstone_capacity=3), clock=self.clock)
        ids = [registry.add("a", i) for i in range(7)]
        for ref_id in ids:
            registry.release("a", [ref_id])
        for forgotten in ids[:4]:
            self.assert_error(lambda: registry.resolve("a", forgotten), "ref_not_found", reason="unknown")
        for remembered in ids[4:]:
            self.assert_error(lambda: registry.resolve("a", remembered), "ref_not_found", reason="released")
        self.assertEqual(len(registry._tombstones), 3)

    def test_a_tombstone_remembers_the_session_and_reason_of_each_id(self):
        registry = Registry(DEFAULTS, clock=self.clock)
        a, b = registry.add("a", 1), registry.add("b", 2)
        registry.release("a", [a])
        registry.release_session("b")
        self.assert_error(lambda: registry.resolve("a", a), "ref_not_found", reason="released")
        self.assert_error(lambda: registry.resolve("b", b), "ref_not_found", reason="session_released")
        self.assert_error(lambda: registry.resolve("b", a), "session_mismatch")

    def test_only_the_exact_id_matches_a_tombstone_so_no_other_spelling_reveals_its_session(self):
        registry = Registry(DEFAULTS, clock=self.clock)
        ref = registry.add("a", 1)
        registry.release("a", [ref])
        for spelling in (ref.upper(), "0x" + ref[2:], ref[:16] + "_" + ref[17:], " " + ref[1:], 7, None):
            self.assert_error(lambda: registry.resolve("b", spelling), "ref_not_found", reason="unknown")

    def test_a_capacity_of_zero_remembers_nothing(self):
        registry = Registry(dict(DEFAULTS, tombstone_capacity=0), clock=self.clock)
        ref = registry.add("a", 1)
        registry.release("a", [ref])
        self.assert_error(lambda: registry.resolve("a", ref), "ref_not_found", reason="unknown")

    def test_work_per_operation_does_not_grow_with_live_refs(self):
        # REF-7, counted instead of timed: the session's refs live in a container that counts every
        # entry any iteration visits, so a scan (min(), sorted(), a loop over the refs) shows up as
        # work that grows with the live refs, where popping the oldest or moving one to the end does not.
        work = {}
        for live in (100, 10_000):
            registry = Registry(DEFAULTS, clock=self.clock)
            registry.open_session("a", {"max_refs": live, "ref_limit_policy": "evict_lru", "ref_ttl_seconds": 3600})
            session = registry._sessions["a"]
            session.refs = refs = CountingRefs()
            first = [registry.add("a", i) for i in range(live)]
            refs.visits = 0
            for i in range(30):
                registry.add("a", i)  # evicts the least recently used
                registry.resolve("a", first[-1 - i])  # a use: moves it to the end
                registry.release("a", [registry.add("a", i)])  # evicts one more, then releases
                self.clock.now += 1  # under the TTL: expiry looks at the front and stops
            work[live] = refs.visits
            self.assertEqual(len(session.refs), live - 1)
            self.assert_error(lambda: registry.resolve("a", first[0]), "ref_not_found", reason="evicted")
        self.assertLessEqual(work[10_000], work[100], f"entries visited by 30 rounds of operations, by live refs: {work}")
        self.assertLessEqual(work[100], 30 * 10, f"entries visited by 30 rounds of operations, by live refs: {work}")


if __name__ == "__main__":
    unittest.main()
