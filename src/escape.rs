//! Making values that come from Auth0 (or its administrators) safe where certwatch shows them:
//! `html` for the status page and the HTML e-mails, `one_line` for a line of plain text (a
//! terminal cell, a mail subject, a chat message) and `Table` for aligned terminal columns of
//! such lines. The one place these rules live: the `scan` and `rotate` tables and the alert
//! renderer all call it.

/// Escape a value for HTML text and attribute context.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `c` could move the cursor, start a terminal escape sequence, break the line or
/// reorder the text around it.
fn unsafe_in_text(c: char) -> bool {
    // C0 controls (CR, LF, tab, ESC…), DEL and C1 controls (CSI, NEL…).
    c.is_control()
        // Bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI,
        // PDI): they reorder what follows them ("Trojan Source").
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        // Bidi marks (LRM, RLM, ALM): invisible, and they change the order of what is around.
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
        // Line and paragraph separators.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// One line of plain text that is safe anywhere: every control character, bidi control and
/// line separator becomes a space (so an ANSI escape sequence loses its ESC and stays inert
/// text), and the value is cut to `max` characters, the last of them `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let clean = s.chars().map(|c| if unsafe_in_text(c) { ' ' } else { c });
    let mut out: String = clean.clone().take(max.saturating_add(1)).collect();
    if out.chars().count() > max {
        out = clean.take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out
}

/// Columns of terminal text: each cell is made `one_line` (cut to its column's maximum), then
/// the columns are aligned by character count, two spaces apart, with no trailing spaces.
#[derive(Debug, Clone)]
pub struct Table<const N: usize> {
    max: [usize; N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    /// A table with a header row; `max` bounds the cells of each column, in characters.
    pub fn new(header: [&str; N], max: [usize; N]) -> Self {
        let mut table = Self {
            max,
            rows: Vec::new(),
        };
        table.push(header);
        table
    }

    /// Add a row.
    pub fn push<S: AsRef<str>>(&mut self, cells: [S; N]) {
        let mut i = 0;
        let row = cells.map(|cell| {
            let clean = one_line(cell.as_ref(), self.max[i]);
            i += 1;
            clean
        });
        self.rows.push(row);
    }

    /// Whether the table has no row but its header.
    pub fn is_empty(&self) -> bool {
        self.rows.len() <= 1
    }

    /// The aligned lines, header first, without line ends.
    pub fn lines(&self) -> Vec<String> {
        let mut widths = [0usize; N];
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        self.rows
            .iter()
            .map(|row| {
                let mut line = String::new();
                for (cell, width) in row.iter().zip(widths) {
                    line.push_str(cell);
                    let pad = width - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.truncate(line.trim_end().len());
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(html("é </script>"), "é &lt;/script&gt;");
    }

    #[test]
    fn bidi_overrides_and_isolates_become_spaces() {
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            let s = format!("admin{c}gpj.exe");
            assert_eq!(one_line(&s, 100), "admin gpj.exe", "U+{:04X}", c as u32);
        }
        assert_eq!(one_line("a\u{200e}b\u{200f}c\u{061c}d", 100), "a b c d");
        assert_eq!(one_line("a\u{2028}b\u{2029}c", 100), "a b c");
    }

    #[test]
    fn c0_and_c1_controls_become_spaces() {
        for c in ('\u{0}'..='\u{1f}')
            .chain(['\u{7f}'])
            .chain('\u{80}'..='\u{9f}')
        {
            let s = format!("x{c}y");
            assert_eq!(one_line(&s, 100), "x y", "U+{:04X}", c as u32);
        }
        assert_eq!(one_line("line\r\nnext\tcol", 100), "line  next col");
    }

    #[test]
    fn ansi_escapes_lose_their_escape_character() {
        let s = one_line(
            "\x1b[31mred\x1b[0m \x1b]8;;https://evil\x07link\u{9b}2J",
            100,
        );
        assert!(!s.contains(['\x1b', '\x07', '\u{9b}']), "{s:?}");
        assert_eq!(s, " [31mred [0m  ]8;;https://evil link 2J");
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(one_line("abcdef", 6), "abcdef");
        assert_eq!(one_line("abcdefg", 6), "abcde…");
        assert_eq!(one_line("ééééééé", 3), "éé…");
        assert_eq!(one_line("abc", 0), "…");
        assert_eq!(one_line("", 0), "");
        assert_eq!(
            one_line("printable ünïcödé stays", 100),
            "printable ünïcödé stays"
        );
    }

    #[test]
    fn table_aligns_by_characters_after_sanitising() {
        let mut t = Table::new(["NAME", "KIND", "NOTE"], [8, usize::MAX, usize::MAX]);
        assert!(t.is_empty());
        t.push(["é\u{202e}x", "a", ""]);
        t.push(["a-very-long-name", "bb", "n"]);
        assert!(!t.is_empty());
        assert_eq!(
            t.lines(),
            vec!["NAME      KIND  NOTE", "é x       a", "a-very-…  bb    n",]
        );
    }
}
