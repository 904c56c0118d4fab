//! Records streamed from any reader: the CSV state machine of `csv-core` over a buffer that is refilled
//! a chunk at a time, so a file of any size is read with a bounded window of its text in memory.
//!
//! Most lines of an export hold no quote: such a line is split at its delimiters directly, in place,
//! with vectorised searches, and the state machine reads the others (and any record that runs past
//! the end of the buffer). Both give the same fields: the split is what `csv-core` does when no
//! quote is involved, and a line is only split directly from the start of a record.
//!
//! Each record comes with the line where its text starts (1-based, counted over the bytes the parser
//! consumed: blank lines before a record are skipped, CRLF counts once, a quoted newline moves the
//! next record down) and the number of bytes consumed so far, for a progress bar.

use std::io::{self, Read};

use csv_core::{ReadRecordResult, ReaderBuilder};

/// How much text is read from the source at a time.
const CHUNK_BYTES: usize = 1 << 20;

pub(crate) struct RecordReader<R> {
    source: R,
    parser: csv_core::Reader,
    buffer: Vec<u8>,
    /// The unparsed text is `buffer[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Newlines among the bytes the parser has consumed.
    newlines: u64,
    consumed: u64,
    /// The current record as the state machine wrote it: its unescaped fields one after another,
    /// and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// Where each field of a line split directly ends (at a delimiter, or the line's end).
    line_ends: Vec<usize>,
    delimiter: u8,
    /// The header has been read (by the state machine, which also strips a byte-order mark).
    started: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(source: R, delimiter: u8) -> RecordReader<R> {
        RecordReader::with_buffer(source, delimiter, CHUNK_BYTES)
    }

    /// With a buffer of `capacity` bytes (at least 4).
    fn with_buffer(source: R, delimiter: u8, capacity: usize) -> RecordReader<R> {
        RecordReader {
            source,
            parser: ReaderBuilder::new().delimiter(delimiter).build(),
            buffer: vec![0; capacity.max(4)],
            start: 0,
            end: 0,
            eof: false,
            newlines: 0,
            consumed: 0,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            line_ends: Vec::with_capacity(64),
            delimiter,
            started: false,
        }
    }

    /// Bytes of the source the parser has consumed so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The next record and the line where it starts; `None` at the end of the text.
    pub fn next_record(&mut self) -> io::Result<Option<(Record<'_>, u64)>> {
        if self.started {
            if let Some(line_end) = self.plain_line()? {
                let start = self.start;
                let line = self.newlines + 1;
                self.line_ends.clear();
                let text = &self.buffer[start..line_end];
                self.line_ends.extend(memchr::memchr_iter(self.delimiter, text));
                self.line_ends.push(text.len());
                // The terminator is left for the next call, which skips it as the parser would.
                self.consumed += (line_end - start) as u64;
                self.start = line_end;
                return Ok(Some((Record { fields: text, ends: &self.line_ends, gap: 1 }, line)));
            }
        }
        if !self.started {
            // The parser strips a byte-order mark only from a first input that holds more than it.
            while self.end - self.start < 4 && !self.eof {
                self.fill()?;
            }
            self.started = true;
        }
        self.parse_record()
    }

    /// Skips the blank lines before the next record and finds where its line ends, when the line is
    /// in the buffer whole and holds no quote: it can then be split at its delimiters. `None` to
    /// leave the record to the state machine.
    fn plain_line(&mut self) -> io::Result<Option<usize>> {
        loop {
            let skip = self.buffer[self.start..self.end].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.newlines += count_newlines(&self.buffer[self.start..self.start + skip]);
            self.consumed += skip as u64;
            self.start += skip;
            if self.start < self.end {
                break;
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
        let mut refilled = false;
        let length = loop {
            let text = &self.buffer[self.start..self.end];
            match memchr::memchr2(b'\n', b'\r', text) {
                Some(length) => break length,
                // The last line, without a terminator.
                None if self.eof => break text.len(),
                // The line runs past the buffer: once, move it to the front and read on.
                None if !refilled && self.start > 0 => {
                    self.fill()?;
                    refilled = true;
                }
                None => return Ok(None),
            }
        };
        if memchr::memchr(b'"', &self.buffer[self.start..self.start + length]).is_some() {
            return Ok(None);
        }
        Ok(Some(self.start + length))
    }

    /// The next record, read by the state machine.
    fn parse_record(&mut self) -> io::Result<Option<(Record<'_>, u64)>> {
        let (mut out, mut count) = (0usize, 0usize);
        let mut line = None;
        loop {
            if self.start == self.end && !self.eof {
                self.fill()?;
            }
            let input = &self.buffer[self.start..self.end];
            let (result, read, written, ended) =
                self.parser.read_record(input, &mut self.fields[out..], &mut self.ends[count..]);
            let taken = &input[..read];
            if line.is_none() {
                if let Some(skip) = taken.iter().position(|&b| b != b'\n' && b != b'\r') {
                    line = Some(self.newlines + count_newlines(&taken[..skip]) + 1);
                }
            }
            self.newlines += count_newlines(taken);
            self.consumed += read as u64;
            self.start += read;
            out += written;
            count += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let grown = self.fields.len() * 2;
                    self.fields.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = (self.ends.len() * 2).max(64);
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    // The parser counts field ends from the start of the record, across calls.
                    let record = Record { fields: &self.fields[..out], ends: &self.ends[..count], gap: 0 };
                    return Ok(Some((record, line.unwrap_or(self.newlines + 1))));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Reads the next chunk; an empty read marks the end of the source.
    /// Refills the buffer: what is left unparsed moves to its front and the source fills the rest
    /// (a line that runs past the end of the buffer is then whole, unless it is longer than the
    /// buffer). Sets `eof` when the source has nothing more.
    fn fill(&mut self) -> io::Result<()> {
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        loop {
            match self.source.read(&mut self.buffer[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }
}

/// One record's fields, as raw bytes (quotes removed, doubled quotes undone).
#[derive(Clone, Copy)]
pub(crate) struct Record<'a> {
    /// The fields one after another, `gap` bytes apart: 0 as the state machine writes them, 1 (the
    /// delimiter) when they are the line itself.
    fields: &'a [u8],
    ends: &'a [usize],
    gap: usize,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of all its fields together (and the delimiters between them, in a split line): no
    /// field is longer.
    pub fn byte_len(&self) -> usize {
        self.fields.len()
    }

    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] + self.gap };
        self.fields.get(start..end)
    }

    /// Its bytes, field ends and gap, to be copied (see [`Record::from_parts`]).
    pub fn parts(&self) -> (&'a [u8], &'a [usize], usize) {
        (self.fields, self.ends, self.gap)
    }

    /// A record from what [`Record::parts`] gave (or a copy of it).
    pub fn from_parts(fields: &'a [u8], ends: &'a [usize], gap: usize) -> Record<'a> {
        Record { fields, ends, gap }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // It runs over every byte of the file once: counted in byte lanes the compiler vectorises, in
    // blocks short enough that a lane cannot overflow.
    bytes.chunks(255).map(|block| u64::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record's fields and starting line, read through a source that hands out `chunk` bytes
    /// at a time.
    fn records(text: &[u8], chunk: usize) -> Vec<(Vec<String>, u64)> {
        let whole = records_with_buffer(text, chunk, CHUNK_BYTES);
        // A small buffer: lines longer than it, and lines across refills.
        assert_eq!(records_with_buffer(text, chunk, 9), whole, "with a 9-byte buffer");
        whole
    }

    fn records_with_buffer(text: &[u8], chunk: usize, buffer: usize) -> Vec<(Vec<String>, u64)> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = RecordReader::with_buffer(Trickle(text, chunk), b',', buffer);
        let mut out = Vec::new();
        while let Some((record, line)) = reader.next_record().expect("in memory") {
            out.push((record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(), line));
        }
        assert_eq!(reader.consumed(), text.len() as u64, "{:?} {chunk}", String::from_utf8_lossy(text));
        out
    }

    #[test]
    fn lines_count_blank_lines_crlf_and_quoted_newlines() {
        let text = b"a,b\r\n\r\n1,\"x\ny\"\n\n\n2,\"\"\"q\"\"\"\r\n3,4";
        let expected = vec![
            (vec!["a".to_owned(), "b".to_owned()], 1),
            (vec!["1".to_owned(), "x\ny".to_owned()], 3),
            (vec!["2".to_owned(), "\"q\"".to_owned()], 7),
            (vec!["3".to_owned(), "4".to_owned()], 8),
        ];
        for chunk in [1, 2, 3, 5, 1000] {
            assert_eq!(records(text, chunk), expected, "chunks of {chunk}");
        }
    }

    /// What the `csv` crate reads, with each record's line counted from its byte position.
    fn reference(text: &[u8]) -> Vec<(Vec<String>, u64)> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
        let mut lines = crate::import::table::LineCounter::new();
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while reader.read_byte_record(&mut record).expect("in memory") {
            let line = lines.line_of(text, record.position().map_or(0, |p| p.byte() as usize));
            out.push((record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(), line));
        }
        out
    }

    #[test]
    fn records_and_lines_are_those_of_the_csv_crate_whatever_the_text() {
        let mut state = 5u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let alphabet = [b'a', b'b', b',', b',', b'"', b'\n', b'\r', b' ', b'\n'];
        for _ in 0..3000 {
            let length = next(120) as usize;
            let mut text: Vec<u8> = (0..length).map(|_| alphabet[next(alphabet.len() as u64) as usize]).collect();
            if next(4) == 0 {
                text.splice(0..0, b"\xEF\xBB\xBF".iter().copied());
            }
            let expected = reference(&text);
            for chunk in [1, 3, 7, 64] {
                assert_eq!(
                    records(&text, chunk),
                    expected,
                    "{:?} in chunks of {chunk}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn long_fields_and_many_fields_grow_the_buffers() {
        let long = "z".repeat(10_000);
        let many = vec!["f"; 500].join(",");
        let text = format!("{long},1\n{many}\n");
        let read = records(text.as_bytes(), 4096);
        assert_eq!(read[0].0[0], long);
        assert_eq!(read[1].0.len(), 500);
        assert_eq!(read[1].1, 2);
    }
}
