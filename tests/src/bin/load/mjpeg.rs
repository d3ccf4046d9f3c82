//! A streaming parser for one MJPEG HTTP response: the response head, chunked transfer
//! coding, and the `multipart/x-mixed-replace` parts (boundary, header block,
//! `Content-Length`, body). Bodies are counted and skipped, or kept when asked for.

/// What went wrong with a stream.
pub type ParseError = String;

/// Transfer-coding state of the response body.
enum Chunk {
    /// Reading a chunk-size line.
    Size(Vec<u8>),
    /// Inside a chunk: bytes left.
    Data(usize),
    /// The CRLF after a chunk: bytes left.
    DataEnd(usize),
    /// The last chunk was read.
    Done,
}

/// Where in the multipart body the parser is.
enum Part {
    /// Boundary and header block (accumulated in `head`).
    Head,
    /// A body: bytes left.
    Body(usize),
}

/// Parses one response, fed with whatever bytes arrive.
pub struct StreamParser {
    /// Response head bytes until the blank line; `None` once parsed.
    response_head: Option<Vec<u8>>,
    /// `--` + boundary, from the response's Content-Type.
    dash_boundary: Vec<u8>,
    /// `None`: not chunked (body until close).
    chunk: Option<Chunk>,
    part: Part,
    head: Vec<u8>,
    keep_body: bool,
    body: Vec<u8>,
    /// `X-Timestamp` (ms) of the part being read.
    timestamp: Option<i64>,
    /// `X-Timestamp`s of the parts completed since [`StreamParser::take_timestamps`]
    /// (kept only with `keep_body`).
    timestamps: Vec<Option<i64>>,
    /// The closing boundary was read.
    pub ended: bool,
}

impl StreamParser {
    /// A parser; `keep_body` keeps each part's bytes for the frame callback.
    pub fn new(keep_body: bool) -> StreamParser {
        StreamParser {
            response_head: Some(Vec::new()),
            dash_boundary: Vec::new(),
            chunk: None,
            part: Part::Head,
            head: Vec::new(),
            keep_body,
            body: Vec::new(),
            timestamp: None,
            timestamps: Vec::new(),
            ended: false,
        }
    }

    /// Feeds received bytes; `on_frame` is called with each complete part's body
    /// (empty unless `keep_body`).
    pub fn feed(
        &mut self,
        mut data: &[u8],
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ParseError> {
        if let Some(head) = &mut self.response_head {
            let Some(rest) = take_until_blank_line(head, &mut data) else {
                return Ok(());
            };
            let head = std::mem::take(head);
            self.response_head = None;
            self.parse_response_head(&head)?;
            data = rest;
        }
        match self.chunk.take() {
            None => self.feed_body(data, on_frame),
            Some(mut chunk) => {
                let result = self.dechunk(&mut chunk, data, on_frame);
                self.chunk = Some(chunk);
                result
            }
        }
    }

    fn parse_response_head(&mut self, head: &[u8]) -> Result<(), ParseError> {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let status = lines.next().unwrap_or_default();
        if status.split(' ').nth(1) != Some("200") {
            return Err(format!("status {status:?}"));
        }
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked") {
                self.chunk = Some(Chunk::Size(Vec::new()));
            }
            if name.eq_ignore_ascii_case("content-type") {
                let boundary = value
                    .split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
                    .ok_or_else(|| format!("no boundary in {value:?}"))?;
                self.dash_boundary = format!("--{}", boundary.trim_matches('"')).into_bytes();
            }
        }
        if self.dash_boundary.is_empty() {
            return Err("no multipart Content-Type".into());
        }
        Ok(())
    }

    fn dechunk(
        &mut self,
        chunk: &mut Chunk,
        mut data: &[u8],
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ParseError> {
        while !data.is_empty() {
            match chunk {
                Chunk::Size(line) => {
                    let Some(i) = data.iter().position(|&b| b == b'\n') else {
                        line.extend_from_slice(data);
                        return Ok(());
                    };
                    line.extend_from_slice(&data[..i]);
                    data = &data[i + 1..];
                    let text = String::from_utf8_lossy(line);
                    let hex = text.split(';').next().unwrap_or_default().trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| format!("bad chunk size {hex:?}"))?;
                    *chunk = if size == 0 {
                        Chunk::Done
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Data(left) => {
                    let n = (*left).min(data.len());
                    self.feed_body(&data[..n], on_frame)?;
                    data = &data[n..];
                    *left -= n;
                    if *left == 0 {
                        *chunk = Chunk::DataEnd(2);
                    }
                }
                Chunk::DataEnd(left) => {
                    let n = (*left).min(data.len());
                    data = &data[n..];
                    *left -= n;
                    if *left == 0 {
                        *chunk = Chunk::Size(Vec::new());
                    }
                }
                Chunk::Done => return Ok(()),
            }
        }
        Ok(())
    }

    fn feed_body(
        &mut self,
        mut data: &[u8],
        on_frame: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ParseError> {
        while !data.is_empty() && !self.ended {
            match &mut self.part {
                Part::Head => {
                    let Some(rest) = take_until_blank_line(&mut self.head, &mut data) else {
                        // A closing boundary has no blank line after it.
                        let trimmed = trim_crlf(&self.head);
                        if trimmed.len() >= self.dash_boundary.len() + 2
                            && trimmed.starts_with(&self.dash_boundary)
                            && trimmed[self.dash_boundary.len()..].starts_with(b"--")
                        {
                            self.ended = true;
                        }
                        return Ok(());
                    };
                    data = rest;
                    let len = self.parse_part_head()?;
                    self.timestamp = header(&self.head, "x-timestamp").and_then(|v| {
                        let (secs, millis) = v.split_once('.')?;
                        Some(secs.parse::<i64>().ok()? * 1000 + millis.parse::<i64>().ok()?)
                    });
                    self.head.clear();
                    self.part = Part::Body(len);
                    if len == 0 {
                        self.frame_done(on_frame);
                    }
                }
                Part::Body(left) => {
                    let n = (*left).min(data.len());
                    if self.keep_body {
                        self.body.extend_from_slice(&data[..n]);
                    }
                    data = &data[n..];
                    *left -= n;
                    if *left == 0 {
                        self.frame_done(on_frame);
                    }
                }
            }
        }
        Ok(())
    }

    fn frame_done(&mut self, on_frame: &mut dyn FnMut(&[u8])) {
        if self.keep_body {
            self.timestamps.push(self.timestamp.take());
        }
        on_frame(&self.body);
        self.body.clear();
        self.part = Part::Head;
    }

    /// The `X-Timestamp`s (ms) of the parts completed since the last call, in order
    /// (with `keep_body`; `None` for a part without one).
    pub fn take_timestamps(&mut self) -> Vec<Option<i64>> {
        std::mem::take(&mut self.timestamps)
    }

    /// Checks the boundary line of the accumulated part head; returns Content-Length.
    fn parse_part_head(&self) -> Result<usize, ParseError> {
        let head = trim_crlf(&self.head);
        if !head.starts_with(&self.dash_boundary) {
            return Err(format!(
                "part does not start with the boundary: {:?}",
                String::from_utf8_lossy(&head[..head.len().min(80)])
            ));
        }
        header(head, "content-length")
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| {
                format!(
                    "part without Content-Length: {:?}",
                    String::from_utf8_lossy(head)
                )
            })
    }
}

/// The value of header `name` in a part's header block.
fn header(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(trim_crlf(head))
        .split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
}

/// Appends bytes of `data` to `head` up to and including the first blank line
/// (`\r\n\r\n`); returns the rest of `data` once it is found.
fn take_until_blank_line<'a>(head: &mut Vec<u8>, data: &mut &'a [u8]) -> Option<&'a [u8]> {
    for (i, &b) in data.iter().enumerate() {
        head.push(b);
        if head.ends_with(b"\r\n\r\n") && head.len() > 4 {
            return Some(&data[i + 1..]);
        }
        if head == b"\r\n\r\n" {
            // Only separators so far; keep waiting for the boundary.
            head.clear();
        }
    }
    *data = &[];
    None
}

fn trim_crlf(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// How many bytes of `jpeg` are COM segments (the stream's padding: libjpeg-turbo
/// writes none).
pub fn comment_bytes(jpeg: &[u8]) -> usize {
    let mut total = 0;
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if jpeg[i + 1] == 0xFE {
            total += 2 + len;
        }
        i += 2 + len;
    }
    total
}

/// A hash of a JPEG's content with its COM segments (the stream's padding) left out:
/// equal for a frame and its padded repeats, different for a new picture.
pub fn jpeg_identity(jpeg: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut add = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let end = (i + 2 + len).min(jpeg.len());
        if marker != 0xFE {
            add(&jpeg[i..end]);
        }
        i = end;
    }
    add(&jpeg[i.min(jpeg.len())..]);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in body.chunks(7) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn parses_advance_header_framing_in_any_split() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=B\r\ntransfer-encoding: chunked\r\n\r\n";
        let body = b"--B\r\nContent-Length: 3\r\n\r\nabc\r\n--B\r\nContent-Length: 2\r\n\r\nxy\r\n--B\r\nContent-Length: 1\r\n\r\nz\r\n--B--\r\n";
        let mut all = head.to_vec();
        all.extend(chunked(body));
        for split in 1..all.len() {
            let mut parser = StreamParser::new(true);
            let mut frames = Vec::new();
            for piece in all.chunks(split) {
                parser
                    .feed(piece, &mut |b| frames.push(b.to_vec()))
                    .expect("parses");
            }
            assert_eq!(frames, vec![b"abc".to_vec(), b"xy".to_vec(), b"z".to_vec()]);
            assert!(parser.ended);
        }
    }

    #[test]
    fn refuses_an_error_status() {
        let mut parser = StreamParser::new(false);
        assert!(parser
            .feed(b"HTTP/1.1 429 Too Many Requests\r\n\r\n", &mut |_| {})
            .is_err());
    }

    #[test]
    fn identity_ignores_comment_padding() {
        let plain = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xDA, 0, 2, 9, 9];
        let padded = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xFE, 0, 3, 0, 0xFF, 0xDA, 0, 2, 9, 9,
        ];
        let other = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2, 0xFF, 0xDA, 0, 2, 9, 8];
        assert_eq!(jpeg_identity(&plain), jpeg_identity(&padded));
        assert_ne!(jpeg_identity(&plain), jpeg_identity(&other));
    }
}
