//! The reader's one way of spreading work over the cores: threads take
//! the items of a list in turn (parts of the file, pieces of a copy, the
//! activities' pieces), so a slow item does not hold up a fixed share.

use std::sync::Mutex;

/// Runs `work` on each item, `threads` threads (this one among them)
/// taking items in turn; each item goes to exactly one thread.
pub(super) fn on_threads<I>(items: I, threads: usize, work: impl Fn(I::Item) + Sync)
where
    I: Iterator + Send,
    I::Item: Send,
{
    let items = Mutex::new(items);
    let run = || loop {
        let next = items.lock().expect("work list").next();
        match next {
            Some(item) => work(item),
            None => break,
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(run);
        }
        run();
    });
}
