//! Reading a trace on a second thread while the engine simulates: parsing a CSV costs about
//! as much as simulating it, and on two cores the two can overlap.
//!
//! [`Prefetch`] moves a source to a reader thread, which pulls arrivals in batches of
//! [`BATCH`] and hands them over a bounded channel ([`DEPTH`] batches ahead, so memory stays
//! flat); the engine's side replays them in order, reading each batch as a slice with an
//! index, and sends the emptied batch back so the reader refills it (no allocation per
//! batch once the first few are made). The reader registers functions in a table of its
//! own; each batch carries the functions first seen in it, each with the index of the
//! arrival whose call registered it, so the engine's side registers each function in the
//! engine's table at the very call where the source itself would have (provisioned
//! instances start then), and maps ids (another registrant of the engine's table does not
//! shift them). A source error travels after the arrivals read before it, so the engine
//! meets it exactly where it would have.
//!
//! The reader runs ahead of the engine: use it only when the engine reads the whole trace
//! (a run that drains), or the rows read ahead would count (a checksum, skipped rows) where
//! the plain reader would not have reached them.

use faasim_sim::{
    Arrival, ArrivalSource, FunctionId, FunctionSpec, FunctionTable, SimTime, SourceError,
};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Arrivals per batch.
pub const BATCH: usize = 4096;
/// Batches the reader may be ahead of the engine.
pub const DEPTH: usize = 4;

#[derive(Default)]
struct Batch {
    arrivals: Vec<Arrival>,
    /// The functions the reader registered while filling this batch, each with the index
    /// of the arrival returned by the call that registered it (`arrivals.len()` for the
    /// call that returned the end), in registration order.
    functions: Vec<(usize, FunctionSpec)>,
    /// Set on the last batch: the end of the trace, or the error that stopped it.
    end: Option<Result<(), SourceError>>,
}

/// A source read ahead on its own thread; see the module docs.
pub struct Prefetch<S: ArrivalSource + Send + 'static> {
    rx: Option<Receiver<Batch>>,
    /// Emptied batches go back to the reader for reuse.
    back: Option<SyncSender<Batch>>,
    reader: Option<JoinHandle<S>>,
    /// The batch being handed out, from `arrivals[next]` on.
    batch: Batch,
    next: usize,
    /// The next of `batch.functions` to register, and the arrival index it is due at
    /// (`usize::MAX` when none is left): one comparison per arrival.
    pending: usize,
    due_at: usize,
    /// The reader's function ids mapped to the engine's.
    ids: Vec<FunctionId>,
    horizon: Option<SimTime>,
    ended: bool,
}

impl<S: ArrivalSource + Send + 'static> Prefetch<S> {
    /// Starts reading `source` on a new thread. Its horizon is read now, before the first
    /// arrival.
    pub fn start(mut source: S) -> Self {
        let horizon = source.horizon();
        let (tx, rx) = sync_channel::<Batch>(DEPTH);
        // Room for every batch there can be (DEPTH queued, one being filled, one being
        // read), so returning one never blocks.
        let (back_tx, back_rx) = sync_channel::<Batch>(DEPTH + 2);
        let reader = std::thread::spawn(move || {
            let mut table = FunctionTable::new();
            loop {
                let mut batch = back_rx.try_recv().unwrap_or_else(|_| Batch {
                    arrivals: Vec::with_capacity(BATCH),
                    ..Batch::default()
                });
                batch.arrivals.clear();
                batch.functions.clear();
                while batch.arrivals.len() < BATCH {
                    let known = table.len();
                    let result = source.next_arrival(&mut table);
                    // Rarely true; the table's iterator skips one by one, so only then.
                    if table.len() > known {
                        let at = batch.arrivals.len();
                        let new = table.iter().skip(known).map(|(_, f)| (at, f.clone()));
                        batch.functions.extend(new);
                    }
                    match result {
                        Ok(Some(a)) => batch.arrivals.push(a),
                        Ok(None) => {
                            batch.end = Some(Ok(()));
                            break;
                        }
                        Err(e) => {
                            batch.end = Some(Err(e));
                            break;
                        }
                    }
                }
                let last = batch.end.is_some();
                // The engine's side hung up (the run stopped): nothing more to read.
                if tx.send(batch).is_err() || last {
                    return source;
                }
            }
        });
        Prefetch {
            rx: Some(rx),
            back: Some(back_tx),
            reader: Some(reader),
            batch: Batch::default(),
            next: 0,
            pending: 0,
            due_at: usize::MAX,
            ids: Vec::new(),
            horizon,
            ended: false,
        }
    }

    /// Registers, in the engine's table, the batch's functions due at or before arrival
    /// index `at`.
    #[cold]
    fn register(&mut self, functions: &mut FunctionTable, at: usize) {
        while let Some((due, spec)) = self.batch.functions.get(self.pending) {
            if *due > at {
                break;
            }
            self.ids.push(functions.push(spec.clone()));
            self.pending += 1;
        }
        self.due_at = self
            .batch
            .functions
            .get(self.pending)
            .map_or(usize::MAX, |(due, _)| *due);
    }

    /// Whether the engine has been handed the end of the trace.
    pub fn reached_end(&self) -> bool {
        self.ended
    }

    /// Stops the reader (if it is still ahead) and gives the source back.
    pub fn finish(mut self) -> Result<S, SourceError> {
        self.rx = None;
        self.back = None;
        match self.reader.take().map(JoinHandle::join) {
            Some(Ok(s)) => Ok(s),
            _ => Err("the trace reader thread panicked".into()),
        }
    }

    /// Hands the emptied batch back and takes the next one; `false` if the reader is gone.
    #[cold]
    fn refill(&mut self) -> bool {
        let Some(rx) = self.rx.as_ref() else {
            return false;
        };
        let Ok(batch) = rx.recv() else {
            return false;
        };
        let old = std::mem::replace(&mut self.batch, batch);
        if let Some(back) = &self.back {
            // The reader may have stopped; the batch is then simply dropped.
            let _ = back.try_send(old);
        }
        self.next = 0;
        self.pending = 0;
        self.due_at = self.batch.functions.first().map_or(usize::MAX, |(d, _)| *d);
        true
    }
}

impl<S: ArrivalSource + Send + 'static> ArrivalSource for Prefetch<S> {
    fn next_arrival(
        &mut self,
        functions: &mut FunctionTable,
    ) -> Result<Option<Arrival>, SourceError> {
        loop {
            let i = self.next;
            if let Some(&a) = self.batch.arrivals.get(i) {
                if i == self.due_at {
                    self.register(functions, i);
                }
                self.next = i + 1;
                return Ok(Some(Arrival {
                    function: self.ids[a.function.index()],
                    ..a
                }));
            }
            if !self.next_batch(functions)? {
                return Ok(None);
            }
        }
    }

    // A slice of the current batch, up to the next arrival due to register a function.
    fn next_arrivals(
        &mut self,
        functions: &mut FunctionTable,
        out: &mut Vec<Arrival>,
        max: usize,
    ) -> Result<usize, SourceError> {
        loop {
            let i = self.next;
            let len = self.batch.arrivals.len();
            if i < len {
                if i == self.due_at {
                    self.register(functions, i);
                }
                // `due_at` is now past `i`.
                let end = len.min(i + max.max(1)).min(self.due_at);
                let ids = &self.ids;
                out.extend(self.batch.arrivals[i..end].iter().map(|a| Arrival {
                    function: ids[a.function.index()],
                    ..*a
                }));
                self.next = end;
                return Ok(end - i);
            }
            if !self.next_batch(functions)? {
                return Ok(0);
            }
        }
    }

    fn horizon(&self) -> Option<SimTime> {
        self.horizon
    }
}

impl<S: ArrivalSource + Send + 'static> Prefetch<S> {
    /// Past the current batch's last arrival: the end of the trace (`false`, after the
    /// functions its closing call registered), its error, or the next batch (`true`).
    #[cold]
    fn next_batch(&mut self, functions: &mut FunctionTable) -> Result<bool, SourceError> {
        if let Some(end) = self.batch.end.take() {
            let i = self.next;
            self.register(functions, i);
            self.ended = end.is_ok();
            return end.map(|()| false);
        }
        if self.ended || self.rx.is_none() {
            return Ok(false);
        }
        if !self.refill() {
            return Err("the trace reader thread stopped early (it panicked)".into());
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_sim::{SimDuration, VecSource};

    fn arrivals(n: u64, functions: u32) -> Vec<Arrival> {
        (0..n)
            .map(|i| Arrival {
                time: SimTime(i * 10),
                function: FunctionId((i % functions as u64) as u32),
                duration: SimDuration(i % 7),
                cold_start: None,
                mode: None,
            })
            .collect()
    }

    fn specs(n: u32) -> Vec<FunctionSpec> {
        (0..n)
            .map(|i| FunctionSpec {
                name: format!("f{i}"),
                memory_mb: 128 + i,
            })
            .collect()
    }

    #[test]
    fn hands_out_the_same_arrivals_and_functions_as_the_source() {
        let n = 3 * BATCH as u64 + 17;
        let mut direct = VecSource::new(specs(5), arrivals(n, 5));
        let mut pre = Prefetch::start(VecSource::new(specs(5), arrivals(n, 5)));
        let (mut t1, mut t2) = (FunctionTable::new(), FunctionTable::new());
        loop {
            let a = direct.next_arrival(&mut t1).unwrap();
            let b = pre.next_arrival(&mut t2).unwrap();
            assert_eq!(a, b);
            if a.is_none() {
                break;
            }
        }
        assert!(pre.reached_end());
        assert_eq!(t1.len(), t2.len());
        for ((_, x), (_, y)) in t1.iter().zip(t2.iter()) {
            assert_eq!(x, y);
        }
        pre.finish().unwrap();
    }

    /// Registers function k at its k-th call, like a reader meeting names row by row.
    struct Lazy {
        n: u32,
        calls: u32,
    }

    impl ArrivalSource for Lazy {
        fn next_arrival(
            &mut self,
            functions: &mut FunctionTable,
        ) -> Result<Option<Arrival>, SourceError> {
            if self.calls == self.n {
                return Ok(None);
            }
            let f = functions.push(FunctionSpec {
                name: format!("g{}", self.calls),
                memory_mb: 1,
            });
            self.calls += 1;
            Ok(Some(Arrival {
                time: SimTime(self.calls as u64),
                function: f,
                duration: SimDuration(1),
                cold_start: None,
                mode: None,
            }))
        }
    }

    #[test]
    fn functions_reach_the_engines_table_at_the_call_the_source_registers_them() {
        let n = BATCH as u32 + 5;
        let mut pre = Prefetch::start(Lazy { n, calls: 0 });
        let mut table = FunctionTable::new();
        for k in 0..n {
            let a = pre.next_arrival(&mut table).unwrap().unwrap();
            assert_eq!(table.len(), k as usize + 1, "call {k}");
            assert_eq!(table.get(a.function).name, format!("g{k}"));
        }
        assert!(pre.next_arrival(&mut table).unwrap().is_none());
        assert_eq!(table.len(), n as usize);
    }

    #[test]
    fn ids_follow_the_engines_table_when_it_already_holds_functions() {
        let mut pre = Prefetch::start(VecSource::new(specs(2), arrivals(4, 2)));
        let mut table = FunctionTable::new();
        table.push(FunctionSpec {
            name: "registered-before".into(),
            memory_mb: 1,
        });
        let a = pre.next_arrival(&mut table).unwrap().unwrap();
        assert_eq!(a.function, FunctionId(1));
        assert_eq!(table.get(a.function).name, "f0");
    }

    /// Fails at its `fail_at`-th arrival.
    struct Failing {
        inner: VecSource,
        left: u64,
    }

    impl ArrivalSource for Failing {
        fn next_arrival(
            &mut self,
            functions: &mut FunctionTable,
        ) -> Result<Option<Arrival>, SourceError> {
            if self.left == 0 {
                return Err("row 12: bad duration".into());
            }
            self.left -= 1;
            self.inner.next_arrival(functions)
        }
    }

    /// A second-thread reader of a source that fails at its `fail_at`-th arrival, past the
    /// first batch.
    fn failing_at(fail_at: u64) -> Prefetch<Failing> {
        Prefetch::start(Failing {
            inner: VecSource::new(specs(1), arrivals(2 * BATCH as u64, 1)),
            left: fail_at,
        })
    }

    #[test]
    fn an_error_comes_after_the_arrivals_read_before_it() {
        let fail_at = BATCH as u64 + 3;
        let mut pre = failing_at(fail_at);
        let mut table = FunctionTable::new();
        for _ in 0..fail_at {
            assert!(pre.next_arrival(&mut table).unwrap().is_some());
        }
        let e = pre.next_arrival(&mut table).unwrap_err();
        assert_eq!(e.to_string(), "row 12: bad duration");
        assert!(!pre.reached_end());
    }

    #[test]
    fn stopping_early_stops_the_reader() {
        let mut pre = Prefetch::start(VecSource::new(specs(1), arrivals(100 * BATCH as u64, 1)));
        let mut table = FunctionTable::new();
        pre.next_arrival(&mut table).unwrap();
        // The reader is blocked DEPTH batches ahead; finishing must not hang.
        let _source = pre.finish().unwrap();
    }

    /// Registers a new function at the calls `k` where `k % 7 == 3` or `k % 1000 < 2`
    /// (each a few calls apart, some at batch edges), otherwise invokes earlier ones.
    struct Sparse {
        n: u32,
        calls: u32,
    }

    impl ArrivalSource for Sparse {
        fn next_arrival(
            &mut self,
            functions: &mut FunctionTable,
        ) -> Result<Option<Arrival>, SourceError> {
            let k = self.calls;
            if k == self.n {
                // The closing call registers one more, as a reader's last line may.
                functions.push(FunctionSpec {
                    name: "closing".into(),
                    memory_mb: 1,
                });
                return Ok(None);
            }
            self.calls += 1;
            let f = if k == 0 || k % 7 == 3 || k % 1000 < 2 {
                functions.push(FunctionSpec {
                    name: format!("g{k}"),
                    memory_mb: 1,
                })
            } else {
                FunctionId(k % functions.len() as u32)
            };
            Ok(Some(Arrival {
                time: SimTime(k as u64),
                function: f,
                duration: SimDuration(1),
                cold_start: None,
                mode: None,
            }))
        }
    }

    /// Each arrival with the size of the engine's table once the call that returned it (or
    /// the batch holding it) is made: registration points must not move with batching.
    fn replay(source: &mut dyn ArrivalSource, max: usize) -> (Vec<(Arrival, usize)>, usize) {
        let mut table = FunctionTable::new();
        let mut seen = vec![];
        let mut out = vec![];
        loop {
            out.clear();
            let n = if max == 0 {
                let a = source.next_arrival(&mut table).unwrap();
                out.extend(a);
                out.len()
            } else {
                source.next_arrivals(&mut table, &mut out, max).unwrap()
            };
            assert_eq!(n, out.len());
            if n == 0 {
                return (seen, table.len());
            }
            seen.extend(out.iter().map(|&a| (a, table.len())));
        }
    }

    #[test]
    fn batches_register_functions_where_single_calls_do() {
        let n = 2 * BATCH as u32 + 123;
        let (one, last) = replay(&mut Sparse { n, calls: 0 }, 0);
        assert_eq!(one.len(), n as usize);
        for max in [1, 5, 64, BATCH, 10 * BATCH] {
            let mut pre = Prefetch::start(Sparse { n, calls: 0 });
            assert_eq!(
                replay(&mut pre, max),
                (one.clone(), last),
                "batches of {max}"
            );
            assert!(pre.reached_end());
            // The plain source's default takes one arrival per call.
            assert_eq!(
                replay(&mut Sparse { n, calls: 0 }, max),
                (one.clone(), last)
            );
        }
        let mut v = VecSource::new(specs(3), arrivals(50, 3));
        let (single, _) = replay(&mut v, 0);
        let mut v = VecSource::new(specs(3), arrivals(50, 3));
        assert_eq!(replay(&mut v, 16).0, single);
    }

    #[test]
    fn a_batch_stops_before_an_error_which_comes_next() {
        let fail_at = BATCH as u64 + 3;
        let mut pre = failing_at(fail_at);
        let mut table = FunctionTable::new();
        let mut out = vec![];
        let mut got = 0;
        let e = loop {
            match pre.next_arrivals(&mut table, &mut out, 1000) {
                Ok(n) => {
                    assert!(n > 0, "the end before the error");
                    got += n as u64;
                }
                Err(e) => break e,
            }
        };
        assert_eq!(got, fail_at);
        assert_eq!(out.len() as u64, fail_at);
        assert_eq!(e.to_string(), "row 12: bad duration");
    }
}
