//! `Records`: a list of records kept in the pieces it was read in.
//!
//! The reader fills a snapshot's largest lists on every core at once, each
//! part of the file into a list of its own. Joining those into one block
//! meant writing every record a second time (half a gigabyte of fresh
//! memory for five million activities, a tenth of the parse); a `Records`
//! keeps the parts as they are and reads as one list, in order.

use std::ops::Index;

/// A list held as consecutive pieces (chunks). Iterating and indexing see
/// one list, in order; most small snapshots have a single piece.
#[derive(Clone)]
pub struct Records<T> {
    chunks: Vec<Vec<T>>,
    /// Where each chunk starts in the whole list.
    starts: Vec<usize>,
    len: usize,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Records {
            chunks: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Records<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one record to the last piece.
    #[inline]
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) => last.push(item),
            None => {
                self.starts.push(0);
                self.chunks.push(vec![item]);
            }
        }
        self.len += 1;
    }

    /// Appends a whole piece (empty ones too: the reader keeps its pieces
    /// in step with what it knows of each).
    pub fn append(&mut self, chunk: Vec<T>) {
        self.starts.push(self.len);
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// The pieces, in order.
    pub fn chunks(&self) -> &[Vec<T>] {
        &self.chunks
    }

    pub fn chunks_mut(&mut self) -> &mut [Vec<T>] {
        &mut self.chunks
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let c = self.chunk_of(i);
        self.chunks[c].get(i - self.starts[c])
    }

    pub fn first(&self) -> Option<&T> {
        self.chunks.iter().find_map(|c| c.first())
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.iter().rev().find_map(|c| c.last())
    }

    /// The piece record `i` (< len) is in: the last one starting at or
    /// before it (an empty piece starts where the next does).
    fn chunk_of(&self, i: usize) -> usize {
        if self.chunks.len() == 1 {
            return 0;
        }
        self.starts.partition_point(|&s| s <= i) - 1
    }

    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            current: [].iter(),
            rest: self.chunks.iter(),
        }
    }

    pub fn iter_mut(&mut self) -> std::iter::Flatten<std::slice::IterMut<'_, Vec<T>>> {
        self.chunks.iter_mut().flatten()
    }

    /// The records at `indexes` (every record when `None`), in that
    /// order; ascending indexes (as scopes list them) are found without a
    /// search each.
    pub fn select<'a>(&'a self, indexes: Option<&'a [u32]>) -> Select<'a, T> {
        match indexes {
            None => Select::All(self.iter()),
            Some(ix) => Select::Some {
                all: self,
                ix: ix.iter(),
                chunk: 0,
            },
        }
    }

    /// The pieces, taken.
    pub fn into_chunks(self) -> Vec<Vec<T>> {
        self.chunks
    }

    /// The records as one `Vec` (no copy when there is one piece).
    pub fn into_vec(mut self) -> Vec<T> {
        if self.chunks.len() == 1 {
            return self.chunks.pop().expect("one piece");
        }
        self.into_iter().collect()
    }

    /// Takes out the records `remove(i)` names (by their index before any
    /// is taken), with those indexes, keeping the pieces as they are.
    pub fn take_where(&mut self, mut remove: impl FnMut(usize) -> bool) -> Vec<(usize, T)> {
        let mut out = Vec::new();
        let mut i = 0;
        let mut len = 0;
        for (chunk, start) in self.chunks.iter_mut().zip(&mut self.starts) {
            let old = std::mem::take(chunk);
            let mut kept = Vec::with_capacity(old.len());
            for item in old {
                if remove(i) {
                    out.push((i, item));
                } else {
                    kept.push(item);
                }
                i += 1;
            }
            *start = len;
            len += kept.len();
            *chunk = kept;
        }
        self.len = len;
        out
    }
}

impl<T> Index<usize> for Records<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(item) => item,
            None => panic!("record {i} of {}", self.len),
        }
    }
}

impl<T> From<Vec<T>> for Records<T> {
    fn from(v: Vec<T>) -> Self {
        let mut r = Records::new();
        r.append(v);
        r
    }
}

impl<T> FromIterator<T> for Records<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Records::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: PartialEq> PartialEq for Records<T> {
    /// Equal records in the same order, however they are pieced.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T> IntoIterator for &'a Records<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Records<T> {
    type Item = &'a mut T;
    type IntoIter = std::iter::Flatten<std::slice::IterMut<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T> IntoIterator for Records<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

/// The records in order, piece after piece.
#[derive(Clone)]
pub struct Iter<'a, T> {
    current: std::slice::Iter<'a, T>,
    rest: std::slice::Iter<'a, Vec<T>>,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some(x) = self.current.next() {
                return Some(x);
            }
            self.current = self.rest.next()?.iter();
        }
    }

    /// Exact: what is left of this piece and the pieces after it.
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.current.len() + self.rest.as_slice().iter().map(Vec::len).sum::<usize>();
        (left, Some(left))
    }

    /// Piece by piece, each a plain slice loop.
    #[inline]
    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, mut f: F) -> B {
        let acc = self.current.fold(init, &mut f);
        self.rest.fold(acc, |acc, c| c.iter().fold(acc, &mut f))
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

/// What `Records::select` picks: a plain type (no boxed iterator), as
/// every figure's pass over millions of activities goes through it.
pub enum Select<'a, T> {
    All(Iter<'a, T>),
    Some {
        all: &'a Records<T>,
        ix: std::slice::Iter<'a, u32>,
        /// The piece the last index was in.
        chunk: usize,
    },
}

impl<'a, T> Iterator for Select<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        match self {
            Select::All(it) => it.next(),
            Select::Some { all, ix, chunk } => {
                let i = *ix.next()? as usize;
                let c = *chunk;
                let ahead = all.starts.get(c + 1).is_some_and(|&s| s <= i);
                if i < all.starts[c] || ahead {
                    *chunk = all.chunk_of(i);
                }
                Some(&all.chunks[*chunk][i - all.starts[*chunk]])
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Select::All(it) => it.size_hint(),
            Select::Some { ix, .. } => ix.size_hint(),
        }
    }

    /// Every record: piece by piece, each a plain slice loop.
    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, mut f: F) -> B {
        if let Select::All(it) = self {
            return it.fold(init, f);
        }
        let mut acc = init;
        for x in self {
            acc = f(acc, x);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(lens: &[usize]) -> Records<usize> {
        let mut r = Records::new();
        let mut n = 0;
        for &l in lens {
            r.append((n..n + l).collect());
            n += l;
        }
        r
    }

    #[test]
    fn reads_as_one_list_whatever_the_pieces() {
        for lens in [&[][..], &[0], &[3], &[0, 2, 0, 0, 3, 1, 0], &[4, 0, 0, 1]] {
            let r = pieces(lens);
            let n: usize = lens.iter().sum();
            let all: Vec<usize> = (0..n).collect();
            assert_eq!(r.len(), n);
            assert_eq!(r.iter().copied().collect::<Vec<_>>(), all, "{lens:?}");
            assert_eq!(r.iter().len(), n);
            let mut it = r.iter();
            it.next();
            assert_eq!(it.len(), n.saturating_sub(1), "{lens:?}");
            assert_eq!(r.iter().sum::<usize>(), all.iter().sum::<usize>(), "fold");
            for i in 0..n {
                assert_eq!(r[i], i, "{lens:?}");
            }
            assert_eq!(r.get(n), None);
            assert_eq!(r.first(), all.first());
            assert_eq!(r.last(), all.last());
            assert_eq!(r, Records::from(all.clone()));
            let picks: Vec<u32> = [0, 2, 3, 1, 5, 6]
                .into_iter()
                .filter(|&i| (i as usize) < n)
                .collect();
            let picked: Vec<usize> = r.select(Some(&picks)).copied().collect();
            assert_eq!(
                picked,
                picks.iter().map(|&i| i as usize).collect::<Vec<_>>()
            );
            assert_eq!(r.select(None).count(), n);
        }
    }

    #[test]
    fn taking_records_out_keeps_the_pieces_and_the_order() {
        let mut r = pieces(&[3, 0, 4]);
        let out = r.take_where(|i| i % 3 == 1);
        assert_eq!(out, [(1, 1), (4, 4)]);
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), [0, 2, 3, 5, 6]);
        assert_eq!(r.chunks().len(), 3);
        assert_eq!(r[3], 5);
        r.push(7);
        assert_eq!(r.len(), 6);
        assert_eq!(r[5], 7);
    }
}
