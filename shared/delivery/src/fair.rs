//! Fair hand-out of jobs among organizations: the next job goes to a free consumer from the
//! organization with the fewest jobs in flight (as SQS fair queues do on AWS, where every
//! delivery message carries its organization as `MessageGroupId`), and no organization holds
//! more than a share of the consumers, so one organization's backlog of deliveries to a
//! receiver that hangs cannot keep another's fresh ones waiting. The local worker hands out
//! its jobs this way; the simulation below measures what each part buys.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Jobs waiting for a consumer, by group.
#[derive(Debug)]
pub struct FairQueue<G, J> {
    waiting: HashMap<G, VecDeque<(u64, J)>>,
    in_flight: HashMap<G, usize>,
    arrivals: u64,
    per_group: usize,
}

impl<G: Eq + Hash + Clone, J> FairQueue<G, J> {
    /// A queue in which a group has at most `per_group` jobs in flight (at least one).
    pub fn new(per_group: usize) -> Self {
        Self {
            waiting: HashMap::new(),
            in_flight: HashMap::new(),
            arrivals: 0,
            per_group: per_group.max(1),
        }
    }

    pub fn push(&mut self, group: G, job: J) {
        self.arrivals += 1;
        self.waiting
            .entry(group)
            .or_default()
            .push_back((self.arrivals, job));
    }

    /// The next job to start: from the group with the fewest jobs in flight, below its share,
    /// the group whose oldest job came first breaking ties; oldest first within a group. It
    /// counts as in flight until [`Self::finished`].
    pub fn pop(&mut self) -> Option<(G, J)> {
        let group = self
            .waiting
            .iter()
            .filter_map(|(group, jobs)| {
                let busy = self.in_flight.get(group).copied().unwrap_or(0);
                (busy < self.per_group).then_some((busy, jobs.front()?.0, group))
            })
            .min_by_key(|(busy, arrival, _)| (*busy, *arrival))
            .map(|(_, _, group)| group.clone())?;
        let jobs = self.waiting.get_mut(&group)?;
        let (_, job) = jobs.pop_front()?;
        if jobs.is_empty() {
            self.waiting.remove(&group);
        }
        *self.in_flight.entry(group.clone()).or_default() += 1;
        Some((group, job))
    }

    /// A job of `group` that [`Self::pop`] handed out is done.
    pub fn finished(&mut self, group: &G) {
        if let Some(count) = self.in_flight.get_mut(group) {
            *count -= 1;
            if *count == 0 {
                self.in_flight.remove(group);
            }
        }
    }

    /// Jobs not handed out yet.
    pub fn waiting(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use super::*;

    impl<G, J> FairQueue<G, J> {
        fn in_flight(&self) -> usize {
            self.in_flight.values().sum()
        }
    }

    #[test]
    fn the_group_with_fewest_in_flight_goes_first_and_each_group_in_order() {
        let mut queue = FairQueue::new(2);
        for n in 0..3 {
            queue.push("noisy", n);
        }
        queue.push("quiet", 10);
        assert_eq!(queue.pop(), Some(("noisy", 0)), "the oldest job first");
        assert_eq!(
            queue.pop(),
            Some(("quiet", 10)),
            "none of its own in flight"
        );
        assert_eq!(queue.pop(), Some(("noisy", 1)));
        queue.push("quiet", 11);
        assert_eq!(queue.pop(), Some(("quiet", 11)), "1 in flight against 2");
        assert_eq!(queue.pop(), None, "noisy holds its share");
        assert_eq!(queue.waiting(), 1);
        queue.finished(&"noisy");
        assert_eq!(queue.pop(), Some(("noisy", 2)));
        assert_eq!(queue.pop(), None);
        assert_eq!((queue.in_flight(), queue.waiting()), (4, 0));
    }

    /// What a quiet organization's deliveries wait for a consumer while another one's backlog
    /// of deliveries to a receiver that hangs takes 30 s each: `consumers` as
    /// `DeliveryMaximumConcurrency`, one quiet event a second for ten minutes, each answered in
    /// 50 ms. `share` is how many consumers one organization may hold (`None`: first in, first
    /// out). In milliseconds: the median and the worst wait.
    fn quiet_waits(share: Option<usize>, consumers: usize, backlog: usize) -> (u64, u64) {
        const HANG: u64 = 30_000;
        const QUICK: u64 = 50;
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        enum Org {
            Noisy,
            Quiet,
        }
        let fair = share.is_some();
        let mut fifo = VecDeque::new();
        let mut queue = FairQueue::new(share.unwrap_or(consumers));
        let push = |fifo: &mut VecDeque<_>, queue: &mut FairQueue<_, _>, org, at: u64| {
            if fair {
                queue.push(org, at);
            } else {
                fifo.push_back((org, at));
            }
        };
        for _ in 0..backlog {
            push(&mut fifo, &mut queue, Org::Noisy, 0);
        }
        // Quiet arrivals and finished jobs, by time.
        let mut arrivals: VecDeque<u64> = (0..600).map(|s| 500 + s * 1_000).collect();
        let mut running: BinaryHeap<Reverse<(u64, bool)>> = BinaryHeap::new();
        let mut waits = Vec::new();
        let mut now = 0;
        loop {
            while running.len() < consumers {
                let next = if fair { queue.pop() } else { fifo.pop_front() };
                let Some((org, queued_at)) = next else { break };
                let quiet = org == Org::Quiet;
                if quiet {
                    waits.push(now - queued_at);
                }
                running.push(Reverse((now + if quiet { QUICK } else { HANG }, quiet)));
            }
            let next_arrival = arrivals.front().copied();
            let next_finish = running.peek().map(|Reverse((at, _))| *at);
            match (next_arrival, next_finish) {
                (Some(arrival), finish) if finish.is_none_or(|f| arrival <= f) => {
                    now = arrival;
                    arrivals.pop_front();
                    push(&mut fifo, &mut queue, Org::Quiet, now);
                }
                (_, Some(finish)) => {
                    now = finish;
                    if let Some(Reverse((_, quiet))) = running.pop() {
                        queue.finished(if quiet { &Org::Quiet } else { &Org::Noisy });
                    }
                }
                _ => break,
            }
            if arrivals.is_empty() && waits.len() == 600 {
                break;
            }
        }
        waits.sort_unstable();
        (waits[waits.len() / 2], waits[waits.len() - 1])
    }

    #[test]
    fn a_backlog_of_hanging_deliveries_holds_another_organization_back_seconds_not_hours() {
        // 10,000 recovered deliveries to a receiver that hangs, 20 consumers.
        let (median, worst) = quiet_waits(Some(15), 20, 10_000);
        eprintln!("fair, share 15 of 20: quiet waits median {median} ms, worst {worst} ms");
        assert!(worst <= 1_000, "fair with a share: worst wait {worst} ms");
        let (median, worst) = quiet_waits(Some(20), 20, 10_000);
        eprintln!("fair, no share: quiet waits median {median} ms, worst {worst} ms");
        assert!(
            worst >= 20_000,
            "hangs that start together end together: {worst} ms"
        );
        let (median, _) = quiet_waits(None, 20, 10_000);
        eprintln!("first in, first out: quiet waits median {median} ms");
        assert!(
            median > 3_600_000,
            "without fairness the quiet organization waits hours: {median} ms"
        );
    }
}
