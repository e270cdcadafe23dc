//! The page's charts, drawn by keyhound as inline SVG (no chart library, nothing fetched), each
//! in a figure with a table of its numbers beside it: the table is what a screen reader, a
//! printout and a copy into a spreadsheet get, and what the chart cannot show in full.

use std::fmt::{self, Write};

use super::escape::{shortened, Text};

/// Width of every chart's drawing, in SVG units (the page scales it to its column).
const WIDTH: u32 = 640;
/// Left margin of a column chart, for its value axis.
const AXIS: u32 = 36;
/// Height of a column chart's plot area.
const PLOT_HEIGHT: u32 = 160;
/// Room under a column chart's plot for its labels and legend.
const BELOW_PLOT: u32 = 48;
/// Height of one bar of a bar chart, and the gap after it.
const BAR: u32 = 16;
const BAR_GAP: u32 = 4;
/// Width kept for a bar chart's labels, and their length in characters.
const LABEL_WIDTH: u32 = 230;
const LABEL_CHARS: usize = 34;
/// The most bars a bar chart draws; its table lists every row.
pub const MOST_BARS: usize = 25;

/// One series of a column chart: its name in the legend and table, and its CSS class (colour).
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
}

/// A column chart of stacked series, one column per label (oldest first), with a table of the
/// same numbers: `values[column][series]`.
pub fn columns(
    out: &mut String,
    title: &str,
    labels: &[String],
    series: &[Series],
    values: &[Vec<u64>],
) -> fmt::Result {
    let totals: Vec<u64> = values.iter().map(|v| v.iter().sum()).collect();
    let top = axis_top(totals.iter().copied().max().unwrap_or(0));
    let height = PLOT_HEIGHT + BELOW_PLOT;
    let slot = f64::from(WIDTH - AXIS) / labels.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    open_figure(out, title, height)?;
    for step in 0..=4u64 {
        let value = top * step / 4;
        let y = plot_y(value, top);
        writeln!(
            out,
            "<line class=grid x1={AXIS} x2={WIDTH} y1={y:.1} y2={y:.1} />\
             <text class=axis x={} y={:.1} text-anchor=end>{value}</text>",
            AXIS - 4,
            y + 4.0
        )?;
    }
    // At most about a dozen labels under the columns, evenly spaced.
    let every = labels.len().div_ceil(12).max(1);
    for (column, (label, stack)) in labels.iter().zip(values).enumerate() {
        let x = f64::from(AXIS) + slot * column as f64 + (slot - bar) / 2.0;
        let mut base = 0;
        for (value, kind) in stack.iter().zip(series) {
            if *value > 0 {
                let (top_y, bottom_y) = (plot_y(base + value, top), plot_y(base, top));
                writeln!(
                    out,
                    "<rect class={} x={x:.1} y={top_y:.1} width={bar:.1} height={:.1}>\
                     <title>{}: {value} {}</title></rect>",
                    kind.class,
                    bottom_y - top_y,
                    Text(label),
                    kind.name
                )?;
            }
            base += value;
        }
        if column % every == 0 {
            writeln!(
                out,
                "<text class=axis x={:.1} y={} text-anchor=middle>{}</text>",
                x + bar / 2.0,
                PLOT_HEIGHT + 16,
                Text(label)
            )?;
        }
    }
    let mut x = AXIS;
    for kind in series {
        writeln!(
            out,
            "<rect class={} x={x} y={} width=10 height=10 />\
             <text class=axis x={} y={}>{}</text>",
            kind.class,
            PLOT_HEIGHT + 30,
            x + 14,
            PLOT_HEIGHT + 39,
            kind.name
        )?;
        x += 14 + 8 * kind.name.len() as u32 + 16;
    }
    out.push_str("</svg>\n");
    let mut header = vec!["Month"];
    header.extend(series.iter().map(|s| s.name));
    header.push("Total");
    open_table(out, title, &header)?;
    for ((label, stack), total) in labels.iter().zip(values).zip(&totals) {
        write!(out, "<tr><th scope=row>{}</th>", Text(label))?;
        for value in stack {
            write!(out, "<td>{value}</td>")?;
        }
        writeln!(out, "<td>{total}</td></tr>")?;
    }
    close_figure(out)
}

/// A bar chart, one bar a row (the first [`MOST_BARS`], largest first as given), with a table
/// of every row: each row's label cells under `header` (all but its last column), and its count.
pub fn bars(
    out: &mut String,
    title: &str,
    header: &[&str],
    rows: &[(Vec<String>, u64)],
) -> fmt::Result {
    let drawn = &rows[..rows.len().min(MOST_BARS)];
    let top = drawn.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = (BAR + BAR_GAP) * drawn.len().max(1) as u32;
    open_figure(out, title, height)?;
    let room = f64::from(WIDTH - LABEL_WIDTH - 48);
    for (i, (cells, count)) in drawn.iter().enumerate() {
        let label = cells
            .iter()
            .filter(|cell| !cell.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" · ");
        let y = (BAR + BAR_GAP) * i as u32;
        let length = (room * *count as f64 / top as f64).max(1.0);
        writeln!(
            out,
            "<g><title>{}: {count}</title>\
             <text class=label x={} y={} text-anchor=end>{}</text>\
             <rect class=bar x={LABEL_WIDTH} y={y} width={length:.1} height={BAR} />\
             <text class=axis x={:.1} y={}>{count}</text></g>",
            Text(&label),
            LABEL_WIDTH - 6,
            y + BAR - 4,
            Text(&shortened(&label, LABEL_CHARS)),
            f64::from(LABEL_WIDTH) + length + 4.0,
            y + BAR - 4
        )?;
    }
    out.push_str("</svg>\n");
    open_table(out, title, header)?;
    for (cells, count) in rows {
        let mut cells = cells.iter();
        if let Some(first) = cells.next() {
            write!(out, "<tr><th scope=row>{}</th>", Text(first))?;
        }
        for cell in cells {
            write!(out, "<td>{}</td>", Text(cell))?;
        }
        writeln!(out, "<td>{count}</td></tr>")?;
    }
    close_figure(out)
}

fn open_figure(out: &mut String, title: &str, height: u32) -> fmt::Result {
    writeln!(
        out,
        "<figure class=chart><figcaption>{}</figcaption>\n\
         <svg viewBox=\"0 0 {WIDTH} {height}\" width={WIDTH} height={height} role=img \
         aria-label=\"{}\">",
        Text(title),
        Text(title)
    )
}

fn open_table(out: &mut String, title: &str, header: &[&str]) -> fmt::Result {
    write!(
        out,
        "<table class=numbers><caption>{}: the numbers</caption><thead><tr>",
        Text(title)
    )?;
    for name in header {
        write!(out, "<th scope=col>{}</th>", Text(name))?;
    }
    writeln!(out, "</tr></thead><tbody>")
}

fn close_figure(out: &mut String) -> fmt::Result {
    writeln!(out, "</tbody></table></figure>")
}

/// The y coordinate of `value` on a plot whose axis ends at `top`.
fn plot_y(value: u64, top: u64) -> f64 {
    f64::from(PLOT_HEIGHT) - f64::from(PLOT_HEIGHT - 8) * value as f64 / top.max(1) as f64
}

/// The end of a value axis that shows `max`: four times a round step (1, 2, 3 or 5 times a
/// power of ten), so its four gridlines fall on whole, readable numbers.
fn axis_top(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 3, 5] {
            if step * factor * 4 >= max {
                return step * factor * 4;
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers_at_or_above_the_largest_value() {
        assert_eq!(axis_top(0), 4);
        assert_eq!(axis_top(3), 4);
        assert_eq!(axis_top(5), 8);
        assert_eq!(axis_top(17), 20);
        assert_eq!(axis_top(41), 80);
        assert_eq!(axis_top(110), 120);
        assert_eq!(axis_top(10_000), 12_000);
    }

    #[test]
    fn a_column_chart_stacks_its_series_and_tables_them() {
        let mut out = String::new();
        let labels = vec!["2023-11".to_string(), "2023-12".to_string()];
        let series = [
            Series {
                name: "in HEAD",
                class: "head",
            },
            Series {
                name: "only in history",
                class: "past",
            },
        ];
        columns(
            &mut out,
            "When",
            &labels,
            &series,
            &[vec![2, 1], vec![0, 3]],
        )
        .unwrap();
        // Three non-empty segments plus two legend swatches.
        assert_eq!(out.matches("<rect class=head").count(), 2, "{out}");
        assert_eq!(out.matches("<rect class=past").count(), 3, "{out}");
        assert!(
            out.contains("<title>2023-12: 3 only in history</title>"),
            "{out}"
        );
        assert!(out.contains("<tr><th scope=row>2023-11</th><td>2</td><td>1</td><td>3</td></tr>"));
        assert!(out.contains("<th scope=col>only in history</th><th scope=col>Total</th>"));
    }

    #[test]
    fn a_bar_chart_draws_the_first_rows_and_tables_all_of_them_escaped() {
        let mut out = String::new();
        let rows: Vec<(Vec<String>, u64)> = (0..MOST_BARS + 5)
            .map(|i| {
                (
                    vec![format!("<repo {i}>"), "kind".to_string()],
                    100 - i as u64,
                )
            })
            .collect();
        bars(
            &mut out,
            "Per <repo>",
            &["Repository", "Kind", "Secrets"],
            &rows,
        )
        .unwrap();
        assert_eq!(out.matches("<rect class=bar").count(), MOST_BARS);
        assert_eq!(out.matches("<tr><th scope=row>").count(), MOST_BARS + 5);
        assert!(out.contains("<th scope=row>&lt;repo 0&gt;</th><td>kind</td><td>100</td>"));
        assert!(!out.contains("<repo"), "{out}");
        assert!(out.contains("aria-label=\"Per &lt;repo&gt;\""));
    }
}
