//! `$n` placeholders for SQL built at run time (IN lists, multi-row VALUES, optional
//! filters): one counter hands them out in order, so no call site numbers them by
//! hand. sqlx's `QueryBuilder` would do it, but it emits `?` for the `Any` driver,
//! which PostgreSQL refuses.

/// Hands out `$1`, `$2`... in the order the values will be bound.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    next: usize,
}

impl Params {
    /// Numbering from `$1`.
    pub(crate) fn new() -> Self {
        Self { next: 1 }
    }

    /// Numbering after `taken` placeholders the query already has (`$1..=$taken`).
    pub(crate) fn after(taken: usize) -> Self {
        Self { next: taken + 1 }
    }

    /// The next placeholder.
    pub(crate) fn one(&mut self) -> String {
        let p = format!("${}", self.next);
        self.next += 1;
        p
    }

    /// `n` placeholders separated by commas, for an `IN (...)` list.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `rows` parenthesised rows of `width` placeholders, for a multi-row `VALUES`.
    pub(crate) fn rows(&mut self, rows: usize, width: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(width)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn placeholders_follow_the_bind_order() {
        let mut p = Params::new();
        assert_eq!(p.one(), "$1");
        assert_eq!(p.list(3), "$2, $3, $4");
        assert_eq!(p.rows(2, 2), "($5, $6), ($7, $8)");
        assert_eq!(Params::after(2).list(2), "$3, $4");
        assert_eq!(Params::new().list(0), "");
    }
}
