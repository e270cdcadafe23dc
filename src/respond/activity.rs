//! What CloudTrail recorded of a key: `LookupEvents` by `AccessKeyId` in each region, summed
//! up for the card (first and last event, counts by service, event, source IP, user agent,
//! region and error code) with the calls that changed something listed first.
//!
//! LookupEvents allows two requests a second per account and region and returns at most 50
//! events a page. Regions are searched side by side, each paced to that limit, throttling is
//! retried with backoff by the client, and each region reads at most `max_pages` pages: a key
//! used millions of times is summed from its newest events, and the card says so.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::calls::Calls;
use crate::verify::query::Reply;

/// LookupEvents' page size limit.
const PAGE: u32 = 50;
/// LookupEvents' rate limit: two requests a second per region.
const PACE: Duration = Duration::from_millis(500);
/// Regions searched at once.
const REGIONS_AT_ONCE: usize = 4;
/// The most changes the card lists.
const MAX_CHANGES: usize = 50;

/// What to look up.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub regions: Vec<String>,
    /// The window's start and end, seconds since the epoch.
    pub start: i64,
    pub end: i64,
    pub max_pages: u32,
}

/// One recorded call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub time: String,
    pub event: String,
    pub source: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    #[serde(skip)]
    seconds: i64,
    #[serde(skip)]
    read_only: bool,
}

/// What CloudTrail recorded of one key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Activity {
    /// The start of the window searched.
    pub since: String,
    /// The regions searched.
    pub regions: Vec<String>,
    /// Events read.
    pub events: usize,
    /// `false` when a region could not be searched or had more pages than the bound.
    pub complete: bool,
    pub first: Option<String>,
    pub last: Option<String>,
    pub by_service: BTreeMap<String, usize>,
    pub by_event: BTreeMap<String, usize>,
    pub source_ips: BTreeMap<String, usize>,
    pub user_agents: BTreeMap<String, usize>,
    pub by_region: BTreeMap<String, usize>,
    pub error_codes: BTreeMap<String, usize>,
    /// Calls that were denied: a burst of them is someone probing what the key may do.
    pub denied: usize,
    /// The calls that changed something (`ReadOnly` false), newest first, at most 50.
    pub changes: Vec<Event>,
    /// One line per region that could not be searched in full.
    pub problems: Vec<String>,
    /// The role whose session the key was, as the events name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What one region gave.
struct Region {
    events: Vec<Event>,
    roles: Vec<String>,
    problem: Option<String>,
}

/// Looks up the events of `key_id`.
pub fn look_up(calls: &Calls, key_id: &str, lookup: &Lookup) -> Activity {
    let results: Mutex<Vec<Option<Region>>> =
        Mutex::new((0..lookup.regions.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..REGIONS_AT_ONCE.min(lookup.regions.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(region) = lookup.regions.get(index) else {
                    break;
                };
                let found = search_region(calls, key_id, region, lookup);
                results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(found);
            });
        }
    });
    let regions = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut activity = Activity {
        since: crate::source::git::rfc3339(lookup.start),
        regions: lookup.regions.clone(),
        complete: true,
        ..Activity::default()
    };
    let mut events = Vec::new();
    // Regions that failed alike are named on one line: a denial is usually the same in all.
    let mut problems: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, region) in lookup.regions.iter().zip(regions) {
        let region = region.expect("every region was searched");
        if let Some(problem) = region.problem {
            activity.complete = false;
            problems.entry(problem).or_default().push(name);
        }
        if activity.role.is_none() {
            activity.role = region.roles.into_iter().next();
        }
        events.extend(region.events);
    }
    activity.problems = problems
        .into_iter()
        .map(|(problem, names)| format!("{}: {problem}", names.join(", ")))
        .collect();
    summarize(&mut activity, events);
    activity
}

/// Fills the counts of `activity` from `events`.
fn summarize(activity: &mut Activity, mut events: Vec<Event>) {
    events.sort_by(|a, b| {
        b.seconds
            .cmp(&a.seconds)
            .then_with(|| a.event.cmp(&b.event))
    });
    activity.events = events.len();
    activity.last = events.first().map(|e| e.time.clone());
    activity.first = events.last().map(|e| e.time.clone());
    let count = |map: &mut BTreeMap<String, usize>, key: &Option<String>| {
        if let Some(key) = key {
            *map.entry(key.clone()).or_default() += 1;
        }
    };
    for event in &events {
        *activity.by_service.entry(event.source.clone()).or_default() += 1;
        *activity.by_event.entry(event.event.clone()).or_default() += 1;
        count(&mut activity.source_ips, &event.source_ip);
        count(&mut activity.user_agents, &event.user_agent);
        count(&mut activity.by_region, &event.region);
        count(&mut activity.error_codes, &event.error_code);
        if event.error_code.as_deref().is_some_and(is_denial) {
            activity.denied += 1;
        }
    }
    activity.changes = events
        .into_iter()
        .filter(|e| !e.read_only)
        .take(MAX_CHANGES)
        .collect();
}

/// Whether an error code says the call was not allowed.
fn is_denial(code: &str) -> bool {
    code.contains("AccessDenied") || code.contains("UnauthorizedOperation")
}

/// Reads the events of `key_id` in one region, page by page, paced to LookupEvents' limit.
fn search_region(calls: &Calls, key_id: &str, region: &str, lookup: &Lookup) -> Region {
    let mut found = Region {
        events: Vec::new(),
        roles: Vec::new(),
        problem: None,
    };
    let mut token: Option<String> = None;
    let mut last_request: Option<Instant> = None;
    for _ in 0..lookup.max_pages {
        if let Some(last) = last_request {
            std::thread::sleep(PACE.saturating_sub(last.elapsed()));
        }
        last_request = Some(Instant::now());
        let body = request_body(key_id, lookup, token.as_deref());
        let reply = calls.cloudtrail(region, "LookupEvents", body, key_id);
        let page = match reply {
            Reply::Ok(text) => match read_page(&text) {
                Ok(page) => page,
                Err(why) => {
                    found.problem = Some(format!("unreadable reply: {why}"));
                    return found;
                }
            },
            Reply::Refused { code, .. } => {
                found.problem = Some(refusal(&code));
                return found;
            }
            Reply::Failed(reason) => {
                found.problem = Some(reason);
                return found;
            }
        };
        found.events.extend(page.events);
        found.roles.extend(page.roles);
        token = page.next_token;
        if token.is_none() {
            return found;
        }
    }
    found.problem = Some(format!(
        "more than {} events: the newest {} were read (raise --max-pages to read more)",
        lookup.max_pages * PAGE,
        found.events.len()
    ));
    found
}

/// What a refusal of LookupEvents means, in words.
fn refusal(code: &str) -> String {
    match code {
        "UnrecognizedClientException" => {
            "the region refused the operator's credentials (is it enabled for the account?)".into()
        }
        code if is_denial(code) => {
            format!("the operator may not call cloudtrail:LookupEvents ({code})")
        }
        code => format!("LookupEvents refused: {code}"),
    }
}

/// A LookupEvents request for the events of `key_id` in the window.
fn request_body(key_id: &str, lookup: &Lookup, token: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": key_id}],
        "StartTime": lookup.start,
        "EndTime": lookup.end,
        "MaxResults": PAGE,
    });
    if let Some(token) = token {
        body["NextToken"] = Value::String(token.to_string());
    }
    body.to_string()
}

/// One page of events.
pub struct Page {
    events: Vec<Event>,
    /// Roles the events' sessions were issued by.
    roles: Vec<String>,
    next_token: Option<String>,
}

impl Page {
    /// How many events the page holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the page holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Reads a LookupEvents reply.
pub fn read_page(text: &str) -> Result<Page, String> {
    let reply: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let events = match reply.get("Events") {
        Some(Value::Array(events)) => events,
        None | Some(Value::Null) => &Vec::new(),
        Some(_) => return Err("Events is not a list".into()),
    };
    let mut page = Page {
        events: Vec::with_capacity(events.len()),
        roles: Vec::new(),
        next_token: reply
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    };
    for event in events {
        let (parsed, role) = read_event(event)?;
        page.events.push(parsed);
        page.roles.extend(role);
    }
    Ok(page)
}

/// One event of a reply, and the role its session was issued by, if any.
fn read_event(event: &Value) -> Result<(Event, Option<String>), String> {
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    let seconds = match event.get("EventTime") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0) as i64,
        _ => return Err("an event without an EventTime".into()),
    };
    // The full record is a JSON document inside a string.
    let record: Value = text(event, "CloudTrailEvent")
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(Value::Null);
    let issuer = record
        .pointer("/userIdentity/sessionContext/sessionIssuer")
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("Role"))
        .and_then(|i| text(i, "userName"));
    let read_only = match event.get("ReadOnly").and_then(Value::as_str) {
        Some(flag) => flag == "true",
        None => record
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    Ok((
        Event {
            time: crate::source::git::rfc3339(seconds),
            event: text(event, "EventName").unwrap_or_default(),
            source: text(event, "EventSource").unwrap_or_default(),
            region: text(&record, "awsRegion"),
            source_ip: text(&record, "sourceIPAddress"),
            user_agent: text(&record, "userAgent"),
            error_code: text(&record, "errorCode"),
            seconds,
            read_only,
        },
        issuer,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seconds: i64, name: &str, read_only: bool, error: Option<&str>) -> Value {
        let mut record = serde_json::json!({
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "awsRegion": "eu-west-1",
            "readOnly": read_only,
            "userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer":
                {"type": "Role", "userName": "ci", "arn": "arn:aws:iam::1:role/ci"}}},
        });
        if let Some(error) = error {
            record["errorCode"] = Value::String(error.into());
        }
        serde_json::json!({
            "EventId": format!("id-{seconds}"),
            "EventName": name,
            "ReadOnly": if read_only { "true" } else { "false" },
            "AccessKeyId": "ASIAWCZC6M3UVHZKOTPE",
            "EventTime": seconds as f64 + 0.5,
            "EventSource": "s3.amazonaws.com",
            "CloudTrailEvent": record.to_string(),
        })
    }

    #[test]
    fn a_page_is_read_with_its_token_and_the_role_behind_the_session() {
        let reply = serde_json::json!({
            "Events": [event(1_700_000_100, "GetObject", true, None)],
            "NextToken": "abc",
        });
        let page = read_page(&reply.to_string()).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("abc"));
        assert_eq!(page.roles, ["ci"]);
        let event = &page.events[0];
        assert_eq!(event.time, "2023-11-14T22:15:00Z");
        assert_eq!(event.source_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(event.region.as_deref(), Some("eu-west-1"));
        assert!(event.read_only);
        assert!(read_page("{\"Events\": 3}").is_err());
        assert!(read_page("[").is_err());
        let empty = read_page("{\"Events\": []}").unwrap();
        assert!(empty.events.is_empty() && empty.next_token.is_none());
    }

    #[test]
    fn the_summary_counts_and_lists_changes_newest_first() {
        let events: Vec<Event> = [
            event(100, "GetObject", true, None),
            event(300, "PutBucketPolicy", false, None),
            event(200, "CreateAccessKey", false, Some("AccessDenied")),
            event(50, "ListBuckets", true, Some("AccessDenied")),
        ]
        .iter()
        .map(|e| read_event(e).unwrap().0)
        .collect();
        let mut activity = Activity::default();
        summarize(&mut activity, events);
        assert_eq!(activity.events, 4);
        assert_eq!(activity.first.as_deref(), Some("1970-01-01T00:00:50Z"));
        assert_eq!(activity.last.as_deref(), Some("1970-01-01T00:05:00Z"));
        assert_eq!(activity.by_service["s3.amazonaws.com"], 4);
        assert_eq!(activity.error_codes["AccessDenied"], 2);
        assert_eq!(activity.denied, 2);
        let changes: Vec<&str> = activity.changes.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(changes, ["PutBucketPolicy", "CreateAccessKey"]);
    }

    #[test]
    fn the_request_names_the_key_the_window_and_the_page() {
        let lookup = Lookup {
            regions: vec!["us-east-1".into()],
            start: 10,
            end: 20,
            max_pages: 2,
        };
        let body: Value = serde_json::from_str(&request_body("AKIAX", &lookup, Some("t"))).unwrap();
        assert_eq!(body["LookupAttributes"][0]["AttributeValue"], "AKIAX");
        assert_eq!(body["LookupAttributes"][0]["AttributeKey"], "AccessKeyId");
        assert_eq!(
            (body["StartTime"].as_i64(), body["EndTime"].as_i64()),
            (Some(10), Some(20))
        );
        assert_eq!(body["MaxResults"], 50);
        assert_eq!(body["NextToken"], "t");
    }
}
