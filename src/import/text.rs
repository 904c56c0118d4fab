//! Text layout: which delimiter a file uses and where its header line is.
//!
//! Spreadsheets save CSV with semicolons where the comma is the decimal separator, some tools write
//! tabs, and reports often put a title line or two above the header. Both are decided from the
//! first few kilobytes: the delimiter that splits most lines into the same number of fields (more
//! than one), and the first line that has that many fields.

/// How to read a file's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub delimiter: u8,
    /// Byte offset where the header line starts.
    pub header_offset: usize,
    /// Lines before the header (title lines, blank lines), added back to every line number.
    pub lines_before_header: u64,
    /// The header's cells, decoded.
    pub header: Vec<String>,
}

const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// How much of the file the layout is decided from.
pub(crate) const SAMPLE_BYTES: usize = 64 * 1024;
/// How many records of the sample are looked at.
const SAMPLE_RECORDS: usize = 30;
/// How far down a header may sit below title lines.
const MAX_LINES_BEFORE_HEADER: usize = 10;

/// The candidate layouts, most likely first: the header is the first record (within the first few)
/// that has the file's usual number of fields, and the next such records are the fall-backs.
pub(crate) fn candidate_layouts(bytes: &[u8]) -> Vec<Layout> {
    let sample = &bytes[..bytes.len().min(SAMPLE_BYTES)];
    let delimiter = sniff_delimiter(sample);
    let records = sample_records(sample, delimiter);
    let Some(usual) = modal_field_count(&records) else {
        return Vec::new();
    };
    records
        .iter()
        .take(MAX_LINES_BEFORE_HEADER)
        .filter(|r| r.fields.len() == usual)
        .take(3)
        .map(|r| Layout {
            delimiter,
            header_offset: r.byte as usize,
            lines_before_header: r.line.saturating_sub(1),
            header: r.fields.clone(),
        })
        .collect()
}

struct SampleRecord {
    byte: u64,
    line: u64,
    fields: Vec<String>,
}

fn sample_records(sample: &[u8], delimiter: u8) -> Vec<SampleRecord> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(sample);
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = super::table::LineCounter::new();
    while records.len() < SAMPLE_RECORDS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let position = record.position().map(|p| p.byte() as usize).unwrap_or(0);
                let line = lines.line_of(sample, position);
                // Where the record's text really starts: past the blank lines the reader skipped.
                let byte = sample[position.min(sample.len())..]
                    .iter()
                    .position(|&b| b != b'\n' && b != b'\r')
                    .map_or(sample.len(), |skip| position + skip) as u64;
                let fields = record.iter().map(|f| super::table::decode(f).into_owned()).collect();
                records.push(SampleRecord { byte, line, fields });
            }
            Ok(false) | Err(_) => break,
        }
    }
    // The sample may end inside a record: leave the last one out unless it is all there is.
    if sample.len() == SAMPLE_BYTES && records.len() > 1 {
        records.pop();
    }
    records
}

/// The most common field count among the sample's records, when it is more than one.
fn modal_field_count(records: &[SampleRecord]) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for record in records {
        match counts.iter_mut().find(|(n, _)| *n == record.fields.len()) {
            Some((_, seen)) => *seen += 1,
            None => counts.push((record.fields.len(), 1)),
        }
    }
    // Most frequent first; among equals, more fields first.
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    counts.first().map(|(n, _)| *n).filter(|&n| n > 1).or_else(|| records.first().map(|r| r.fields.len()))
}

/// The delimiter that splits the most sample records into the same number (above one) of fields;
/// the comma when nothing does better.
fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for delimiter in CANDIDATE_DELIMITERS {
        let records = sample_records(sample, delimiter);
        let Some(usual) = modal_field_count(&records).filter(|&n| n > 1) else {
            continue;
        };
        let agreeing = records.iter().filter(|r| r.fields.len() == usual).count();
        if (agreeing, usual) > (best.1, best.2) {
            best = (delimiter, agreeing, usual);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Layout {
        candidate_layouts(text.as_bytes()).into_iter().next().expect("a layout")
    }

    #[test]
    fn delimiters_are_found_from_the_rows() {
        assert_eq!(first("a,b,c\n1,2,3\n").delimiter, b',');
        assert_eq!(first("a;b;c\n1;2,5;3\n4;5;6\n").delimiter, b';');
        assert_eq!(first("a\tb\tc\n1\t2\t3\n").delimiter, b'\t');
        assert_eq!(first("\"a,x\";b;c\n1;2;3\n").delimiter, b';');
    }

    #[test]
    fn title_lines_above_the_header_are_skipped() {
        let layout = first("Subscriptions report\nExported 2025-12-31\n\nid,status,amount\n1,active,3\n2,active,4\n");
        assert_eq!(layout.header, vec!["id", "status", "amount"]);
        assert_eq!(layout.lines_before_header, 3);
        assert_eq!(&"Subscriptions report\nExported 2025-12-31\n\nid"[layout.header_offset..], "id");
    }

    #[test]
    fn a_one_column_file_still_has_a_header() {
        let layout = first("name\nA\nB\n");
        assert_eq!(layout.header, vec!["name"]);
    }
}
