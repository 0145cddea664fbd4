//! Rendering a figure to PNG and SVG, the embedded font, colours and number labels.

use crate::PlotError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The font family every text element uses; registered from the embedded DejaVu Sans.
pub(crate) const FONT: &str = "sans-serif";

/// Registers DejaVu Sans (regular, bold, oblique) as `sans-serif`, once per process.
pub(crate) fn register_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Oblique, dejavu::sans::oblique())
                .is_ok()
            && plotters::style::register_font(FONT, FontStyle::Italic, dejavu::sans::oblique())
                .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// A drawing error, whatever the backend.
#[derive(Debug)]
pub(crate) struct DrawErr(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawErr {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawErr(e.to_string())
    }
}

/// A figure that can draw itself on any backend.
pub(crate) trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawErr>;
}

/// Writes `<out>/<name>.png` and `<out>/<name>.svg`, each under a temporary name renamed
/// into place when complete.
pub(crate) fn render(fig: &impl Figure, out: &Path, name: &str) -> Result<Vec<PathBuf>, PlotError> {
    let size = fig.size();
    let png = out.join(format!("{name}.png"));
    let svg = out.join(format!("{name}.svg"));

    // PNG: the bitmap backend picks the encoder from the extension, so the temporary name
    // keeps `.png` at the end.
    let tmp_png = out.join(format!(".{name}.tmp.png"));
    let res = (|| -> Result<(), DrawErr> {
        let root = BitMapBackend::new(&tmp_png, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root)?;
        root.present()?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp_png);
        return Err(PlotError::Draw {
            path: png,
            message: e.0,
        });
    }
    std::fs::rename(&tmp_png, &png).map_err(|source| PlotError::Io {
        path: png.clone(),
        source,
    })?;

    let mut text = String::new();
    let res = (|| -> Result<(), DrawErr> {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root)?;
        root.present()?;
        Ok(())
    })();
    if let Err(e) = res {
        return Err(PlotError::Draw {
            path: svg,
            message: e.0,
        });
    }
    let tmp_svg = out.join(format!(".{name}.tmp.svg"));
    std::fs::write(&tmp_svg, text.as_bytes())
        .and_then(|_| std::fs::rename(&tmp_svg, &svg))
        .map_err(|source| {
            let _ = std::fs::remove_file(&tmp_svg);
            PlotError::Io {
                path: svg.clone(),
                source,
            }
        })?;
    Ok(vec![png, svg])
}

/// The colour of configuration `i`: the ten "tab10" colours, then plotters' 99-colour
/// palette.
pub(crate) fn color(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    match TAB10.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b),
        None => {
            let (r, g, b) = Palette99::pick(i - TAB10.len()).rgb();
            RGBColor(r, g, b)
        }
    }
}

/// A compact number label: `0`, `0.25`, `1.5k`, `2M`, `1e-4`.
pub(crate) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else if a >= 1e-3 {
        // Up to 4 significant digits.
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        format!("{v:.0e}")
    }
}

/// `lo..hi` padded by `pad` of its width on both sides; a degenerate range is widened.
pub(crate) fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (0.0, 1.0)
    };
    let w = hi - lo;
    if w <= 0.0 {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    (lo - w * pad, hi + w * pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_labels() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(100.0), "100");
        assert_eq!(fmt_num(1234.0), "1234");
        assert_eq!(fmt_num(15_000.0), "15k");
        assert_eq!(fmt_num(2_500_000.0), "2.5M");
        assert_eq!(fmt_num(0.0072), "0.0072");
        assert_eq!(fmt_num(0.0001), "1e-4");
    }

    #[test]
    fn padding() {
        assert_eq!(padded(0.0, 10.0, 0.1), (-1.0, 11.0));
        assert_eq!(padded(5.0, 5.0, 0.1), (4.5, 5.5));
        assert_eq!(padded(0.0, 0.0, 0.1), (-1.0, 1.0));
    }

    #[test]
    fn colours_are_distinct() {
        let cs: Vec<RGBColor> = (0..30).map(color).collect();
        for i in 0..cs.len() {
            for j in 0..i {
                assert_ne!(cs[i], cs[j], "{i} {j}");
            }
        }
    }
}
