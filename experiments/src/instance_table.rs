//! EC2-style instance tables for the serverful baseline: the built-in dated snapshot and a
//! parser for any table of its shape (columns by header name; see `faasim_sim::vm`).
//! Parsing lives here, not in the engine: `sim` reads no file.

use faasim_sim::billing::usd_str_to_price_units;
use faasim_sim::vm::{InstanceTable, InstanceType};
use std::fmt;

/// The default instance table: EC2, US East (N. Virginia), 2021-04-10.
pub const DEFAULT_INSTANCE_TABLE_CSV: &str = include_str!("../data/ec2-us-east-1-2021-04-10.csv");
/// The name the default table goes by in messages and manifests.
pub const DEFAULT_INSTANCE_TABLE_NAME: &str = "ec2-us-east-1-2021-04-10.csv (built in)";
/// The date of the default table's prices.
pub const DEFAULT_INSTANCE_TABLE_DATE: &str = "2021-04-10";

/// The default instance table (EC2 us-east-1, 2021-04-10), parsed from the copy built into
/// the crate.
pub fn default_instance_table() -> InstanceTable {
    parse_instance_table(DEFAULT_INSTANCE_TABLE_CSV, DEFAULT_INSTANCE_TABLE_NAME)
        .expect("the built-in instance table parses (tested)")
}

/// A bad instance table: the file, the 1-based line, the column and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TableError {
    /// The table's file (or the built-in table's name).
    pub path: String,
    /// The 1-based line at fault.
    pub line: usize,
    /// The column at fault, by header name, if one is.
    pub column: Option<String>,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Splits one CSV record: commas, double-quoted fields with `""` escapes. No record may
/// span lines.
fn split_record(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                    if !matches!(chars.peek(), None | Some(',')) {
                        return Err("a closing quote must end its field".into());
                    }
                }
            } else {
                cur.push(c);
            }
        } else if c == ',' {
            fields.push(std::mem::take(&mut cur));
            at_start = true;
            continue;
        } else if c == '"' && at_start {
            quoted = true;
        } else {
            cur.push(c);
        }
        at_start = false;
    }
    if quoted {
        return Err("unterminated quoted field (a record may not span lines)".into());
    }
    fields.push(cur);
    Ok(fields)
}

/// Parses an instance table of the shape of the EC2 table (see `faasim_sim::vm`).
/// `path` only names the source in errors and in [`InstanceTable::source`].
pub fn parse_instance_table(text: &str, path: &str) -> Result<InstanceTable, TableError> {
    let err = |line: usize, column: Option<&str>, message: String| TableError {
        path: path.to_owned(),
        line,
        column: column.map(str::to_owned),
        message,
    };
    let mut lines = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(err(1, None, "empty file: expected a header line".into()));
    };
    let header: Vec<String> = split_record(header)
        .map_err(|m| err(header_line, None, m))?
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if header[..i].contains(h) {
            return Err(err(header_line, Some(h), "column named twice".into()));
        }
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let required = |name: &str| {
        col(name).ok_or_else(|| {
            err(
                header_line,
                Some(name),
                format!("missing column (the header has: {})", header.join(", ")),
            )
        })
    };
    let c_api = required("api_name")?;
    let c_vcpus = required("vcpus")?;
    let c_linux = required("linux_on_demand_usd_per_hour")?;
    let c_name = col("name");
    let c_mem = col("memory_gib");
    let c_storage = col("instance_storage");
    let c_network = col("network");
    let c_linux_r = col("linux_reserved_1y_usd_per_hour");
    let c_win = col("windows_on_demand_usd_per_hour");
    let c_win_r = col("windows_reserved_1y_usd_per_hour");
    let c_note = col("note");

    let mut types: Vec<InstanceType> = Vec::new();
    for (line, text) in lines {
        let f = split_record(text).map_err(|m| err(line, None, m))?;
        if f.len() != header.len() {
            return Err(err(
                line,
                None,
                format!(
                    "expected {} fields as in the header, found {}",
                    header.len(),
                    f.len()
                ),
            ));
        }
        let cell = |c: usize| f[c].trim();
        let opt = |c: Option<usize>| c.map_or("", cell).to_owned();
        let price = |c: Option<usize>| -> Result<Option<u64>, TableError> {
            let Some(c) = c else { return Ok(None) };
            let v = cell(c);
            if v.is_empty() {
                return Ok(None);
            }
            usd_str_to_price_units(v).map(Some).ok_or_else(|| {
                err(
                    line,
                    Some(&header[c]),
                    format!(
                        "expected an hourly price in USD such as 0.096 (at most 10 decimals), \
                         got `{v}`"
                    ),
                )
            })
        };
        let api_name = cell(c_api).to_owned();
        if api_name.is_empty() {
            return Err(err(
                line,
                Some("api_name"),
                "empty instance type name".into(),
            ));
        }
        if types.iter().any(|t| t.api_name == api_name) {
            return Err(err(
                line,
                Some("api_name"),
                format!("instance type `{api_name}` listed twice"),
            ));
        }
        let vcpus = match cell(c_vcpus).parse::<u32>() {
            Ok(v) if v >= 1 => v,
            _ => {
                return Err(err(
                    line,
                    Some("vcpus"),
                    format!(
                        "expected a whole number of vCPUs >= 1, got `{}`",
                        cell(c_vcpus)
                    ),
                ))
            }
        };
        let memory_mib = match c_mem {
            None => 0,
            Some(c) if cell(c).is_empty() => 0,
            Some(c) => usd_str_to_price_units(cell(c))
                // GiB with up to 10 decimals, in 1e-10 GiB: x 1024, rounded to the nearest MiB.
                .map(|e10| ((e10 as u128 * 1024 + 5_000_000_000) / 10_000_000_000) as u64)
                .ok_or_else(|| {
                    err(
                        line,
                        Some("memory_gib"),
                        format!("expected a size in GiB such as 16.0, got `{}`", cell(c)),
                    )
                })?,
        };
        types.push(InstanceType {
            api_name,
            name: opt(c_name),
            vcpus,
            memory_mib,
            instance_storage: opt(c_storage),
            network: opt(c_network),
            linux_on_demand: price(Some(c_linux))?,
            linux_reserved_1y: price(c_linux_r)?,
            windows_on_demand: price(c_win)?,
            windows_reserved_1y: price(c_win_r)?,
            burstable: c_note.is_some_and(|c| cell(c).to_ascii_lowercase().contains("burstable")),
        });
    }
    if types.is_empty() {
        return Err(err(
            header_line,
            None,
            "no instance types below the header".into(),
        ));
    }
    Ok(InstanceTable {
        source: path.to_owned(),
        types,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_parses_and_keeps_its_prices_exact() {
        let t = default_instance_table();
        assert_eq!(t.types.len(), 26);
        assert_eq!(t.source, DEFAULT_INSTANCE_TABLE_NAME);
        let m = t.get("m5a.2xlarge").unwrap();
        assert_eq!(m.vcpus, 8);
        assert_eq!(m.memory_mib, 32 * 1024);
        assert_eq!(m.linux_on_demand, Some(3_440_000_000));
        assert_eq!(m.windows_reserved_1y, Some(5_850_000_000));
        let i2 = t.get("i2.xlarge").unwrap();
        assert_eq!(i2.memory_mib, 31_232); // 30.5 GiB
        let g = t.get("r6g.medium").unwrap();
        assert_eq!(g.windows_on_demand, None);
        assert!(t.get("t2.micro").unwrap().burstable);
        assert!(!m.burstable);
        assert_eq!(
            t.get("i2.8xlarge").unwrap().instance_storage,
            "6400 GiB (8 * 800 GiB SSD)"
        );
        // Every row of the shared table is here, header included.
        assert!(DEFAULT_INSTANCE_TABLE_CSV.starts_with("api_name,name,vcpus,memory_gib,"));
        let err = t.lookup("m9.huge").unwrap_err().to_string();
        assert!(err.contains("unknown instance type `m9.huge`") && err.contains("t2.micro"));
    }

    #[test]
    fn tables_of_the_same_shape_parse_by_header_name() {
        // Columns in another order, an extra column, a quoted cell with a comma, CRLF.
        let text = "vcpus,extra,linux_on_demand_usd_per_hour,api_name,note\r\n\
                    2,x,0.1,a.large,\r\n\
                    4,y,\"0.2\",\"b,xlarge\",Burstable\r\n";
        let t = parse_instance_table(text, "mine.csv").unwrap();
        assert_eq!(t.source, "mine.csv");
        assert_eq!(t.types[0].api_name, "a.large");
        assert_eq!(t.types[0].vcpus, 2);
        assert_eq!(t.types[0].linux_on_demand, Some(1_000_000_000));
        assert_eq!(t.types[0].memory_mib, 0);
        assert_eq!(t.types[1].api_name, "b,xlarge");
        assert!(t.types[1].burstable);
    }

    #[test]
    fn table_errors_name_the_file_line_and_column() {
        let head = "api_name,vcpus,linux_on_demand_usd_per_hour\n";
        let cases: Vec<(String, &str)> = vec![
            (
                "api_name,vcpus\na,1\n".into(),
                "t.csv:1: column `linux_on_demand_usd_per_hour`: missing column",
            ),
            (
                format!("{head}a,0,0.1\n"),
                "t.csv:2: column `vcpus`: expected a whole number of vCPUs >= 1, got `0`",
            ),
            (
                format!("{head}a,2,0.1\n\nb,2,cheap\n"),
                "t.csv:4: column `linux_on_demand_usd_per_hour`: expected an hourly price",
            ),
            (
                format!("{head}a,2\n"),
                "t.csv:2: expected 3 fields as in the header, found 2",
            ),
            (
                format!("{head}a,2,0.1\na,4,0.2\n"),
                "t.csv:3: column `api_name`: instance type `a` listed twice",
            ),
            (
                format!("{head}\"a,2,0.1\n"),
                "t.csv:2: unterminated quoted field",
            ),
            (head.into(), "t.csv:1: no instance types"),
            (String::new(), "t.csv:1: empty file"),
        ];
        for (text, want) in cases {
            let got = parse_instance_table(&text, "t.csv")
                .unwrap_err()
                .to_string();
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }
}
