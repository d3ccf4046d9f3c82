//! Golden images, resvg style: each case must match `golden/NAME.png` within 1 per
//! channel. On a mismatch `target/golden/NAME.png` shows expected | diff | actual.
//! `MAKE_REF=1` rewrites the references, and the test then fails (so a run with the
//! variable set can never pass): rerun without it to check them.

use std::io::Write as _;
use std::path::PathBuf;

use render_core::{Data, Frame, Renderer, Spec};

use crate::cases::{render, CASES};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/render/golden")
}

fn read_png(path: &PathBuf) -> Option<(u32, u32, Vec<u8>)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    let mut reader = decoder.read_info().ok()?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).ok()?;
    buffer.truncate(info.buffer_size());
    (info.color_type == png::ColorType::Rgb).then_some((info.width, info.height, buffer))
}

fn write_png(path: &PathBuf, width: u32, height: u32, rgb: &[u8]) {
    let file = std::fs::File::create(path).expect("create png");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(rgb).expect("png data");
}

/// Compares `frame` with the reference `name`: the problem, if any. Pixels off by more
/// than 1 in some channel fail it and write a comparison strip; with `MAKE_REF` set the
/// reference is rewritten instead, which fails too.
fn check(name: &str, frame: &Frame) -> Result<(), String> {
    let (width, height, actual) = (frame.width(), frame.height(), frame.rgb());
    let reference = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("MAKE_REF").is_some() {
        write_png(&reference, width, height, &actual);
        return Err(format!(
            "{name}: reference rewritten: rerun without MAKE_REF"
        ));
    }
    let Some((w, h, expected)) = read_png(&reference) else {
        panic!(
            "{}: missing or unreadable reference; run with MAKE_REF=1",
            reference.display()
        );
    };
    assert_eq!(
        (w, h),
        (width, height),
        "{name}: size differs from the reference"
    );
    let mut strip = vec![0u8; (width * 3 * height * 3) as usize];
    let mut bad = 0;
    for y in 0..height as usize {
        for x in 0..width as usize {
            let i = (y * width as usize + x) * 3;
            let off = (0..3).any(|c| expected[i + c].abs_diff(actual[i + c]) > 1);
            bad += off as usize;
            let row = y * width as usize * 9;
            for c in 0..3 {
                strip[row + x * 3 + c] = expected[i + c];
                strip[row + (width as usize + x) * 3 + c] = if off {
                    [255, 0, 0][c]
                } else {
                    expected[i + c] / 4
                };
                strip[row + (2 * width as usize + x) * 3 + c] = actual[i + c];
            }
        }
    }
    if bad == 0 {
        return Ok(());
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/golden");
    std::fs::create_dir_all(&dir).expect("create target/golden");
    write_png(&dir.join(format!("{name}.png")), width * 3, height, &strip);
    Err(format!(
        "{name}: {bad} pixels differ (see target/golden/{name}.png)"
    ))
}

#[test]
fn examples_match_their_golden_images() {
    let renderer = Renderer::default();
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| check(case.name, &render(case, &renderer)).err())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// With a CJK font registered, Chinese text draws as glyphs; without it, as boxes.
/// Skipped, saying so, on a machine without the font (`cargo xtask test` installs it).
#[test]
fn registered_cjk_font_draws_chinese_instead_of_boxes() {
    const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    let font = match std::fs::read(CJK_FONT) {
        Ok(font) => font,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Straight to stderr: the test harness captures `println!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {CJK_FONT} is missing (apt-get install fonts-wqy-microhei, or \
                 `cargo xtask test`, runs this test)"
            );
            return;
        }
        Err(e) => panic!("{CJK_FONT}: {e}"),
    };
    let spec = |title: &str| {
        let json = format!(
            r#"{{"version":1,"width":240,"height":100,"panels":[{{"kind":"text","text":"{title}","font_size":24}}]}}"#
        );
        render_core::validate(Spec::from_json(&json).expect("parses")).expect("valid")
    };
    let draw = |renderer: &Renderer, title: &str| {
        let mut frame = Frame::default();
        renderer.render(&spec(title), &Data::default(), 0, &mut frame);
        frame.rgb()
    };
    let plain = Renderer::default();
    let with_cjk = Renderer::with_fonts([font]).expect("font loads");
    // Without the font, each of the two characters is the same box: like two other
    // characters no font has.
    let boxes = draw(&plain, "中文");
    assert!(
        boxes == draw(&plain, "\u{E000}\u{E001}"),
        "unknown characters draw as boxes"
    );
    assert!(boxes != draw(&plain, ""), "the boxes are visible");
    let glyphs = draw(&with_cjk, "中文");
    assert!(glyphs != boxes, "with the CJK font registered, no boxes");
    assert!(glyphs != draw(&with_cjk, "文中"), "the two glyphs differ");
    let mut frame = Frame::default();
    with_cjk.render(&spec("城市温度 °C"), &Data::default(), 0, &mut frame);
    if let Err(problem) = check("cjk-fallback", &frame) {
        panic!("{problem}");
    }
}

/// Byte counters drawn as rates summed per host (`sum by (host) (rate(net_bytes))`),
/// with a counter reset, a gap and an interface written 3 s after the others. No example
/// uses transforms, so this case has its own image.
#[test]
fn counter_rates_summed_by_host_match_their_golden_image() {
    const NOW: i64 = 1_764_000_000_000;
    let spec = Spec::from_json(
        r#"{"version":1,"width":320,"height":160,"window":"5m","panels":[{
            "title":"Bytes/s per host","y_axis":{"format":"si","unit":"B/s"},
            "series":[{"metric":"net_bytes","transform":"rate","aggregate":"sum","by":["host"]}]}]}"#,
    )
    .expect("spec parses");
    let spec = render_core::validate(spec).expect("spec is valid");
    let mut data = Data::default();
    for (h, host) in ["a", "b"].into_iter().enumerate() {
        for (i, interface) in ["eth0", "eth1"].into_iter().enumerate() {
            let offset = if (h, i) == (1, 1) { 3000 } else { 0 };
            let mut counter = 0.0;
            let points = (0..=30i64)
                .map(|k| {
                    counter += (1000 + 400 * h as i64 + 250 * i as i64) as f64
                        * (1 + (k * 7 + h as i64 * 3 + i as i64) % 5) as f64;
                    if (h, i, k) == (1, 0, 15) {
                        counter = 500.0; // the counter restarted
                    }
                    let v = if (h, i, k) == (0, 0, 20) {
                        f64::NAN
                    } else {
                        counter
                    };
                    render_core::Point {
                        t: NOW - 300_000 + k * 10_000 - offset,
                        v,
                    }
                })
                .collect();
            data.series.push(render_core::Series {
                metric: "net_bytes".into(),
                tags: [("host", host), ("if", interface)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                points,
                source: None,
            });
        }
    }
    let mut frame = Frame::default();
    Renderer::default().render(&spec, &data, NOW, &mut frame);
    if let Err(problem) = check("counter-rates", &frame) {
        panic!("{problem}");
    }
}
