use super::*;
use crate::finding::{CommitInfo, Finding, GitProvenance};
use crate::report::testing::{self, pair_at, KEY_ID, SECRET};
use crate::rules::RuleSet;
use crate::source::{AuditStats, Origin, Stats};

const HOSTILE: &str = "<img src=x onerror=alert(1)>.env";

fn render(findings: &[Finding], rules: &RuleSet, stats: &Stats, show: bool) -> String {
    testing::render(write, findings, rules, stats, show)
}

/// `findings` introduced by `author` at `time`, still in HEAD or only in history.
fn committed(mut findings: Vec<Finding>, author: &str, time: i64, in_head: bool) -> Vec<Finding> {
    for f in &mut findings {
        let path = f.origin.display_path();
        f.git = Some(GitProvenance {
            blob: "b".repeat(40),
            commit: Some(CommitInfo {
                id: format!("{time:040}"),
                author_name: author.into(),
                author_email: format!("{author}@example.com"),
                time,
                date: crate::source::git::rfc3339(time),
                path: path.clone(),
            }),
            commits: Some(2),
            paths: vec![path],
            in_head: Some(in_head),
            ..GitProvenance::default()
        });
        f.origin = Origin::git(f.origin.display_path().into(), "b".repeat(40));
    }
    findings
}

/// The page's text between `<tag` and the matching close, for each such element.
fn elements<'a>(page: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    page.match_indices(open)
        .map(|(at, _)| {
            let end = page[at..].find(close).unwrap() + at;
            &page[at..end]
        })
        .collect()
}

#[test]
fn a_hostile_path_and_author_are_text_everywhere_they_appear() {
    let rules = RuleSet::builtin().unwrap();
    let findings = committed(
        pair_at(&rules, HOSTILE),
        "</script><script>alert('x')</script> & \"Mallory\"",
        1_700_000_000,
        true,
    );
    let page = render(&findings, &rules, &Stats::default(), false);
    assert!(!page.contains("<img"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;.env"),
        "{page}"
    );
    // Only the page's own two scripts, whatever the author's name holds.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert_eq!(page.matches("</script>").count(), 2, "{page}");
    assert!(page.contains(
        "&lt;/script&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Mallory&quot;"
    ));
    // Every attribute of every element the rows open stays in its quotes.
    for row in elements(&page, "<tr class=f ", ">") {
        assert_eq!(row.matches('"').count() % 2, 0, "{row}");
        assert!(!row.contains("onerror"), "{row}");
    }
}

#[test]
fn what_was_scanned_is_said_at_the_top_escaped() {
    let rules = RuleSet::builtin().unwrap();
    let findings = pair_at(&rules, "a.env");
    let stats = Stats::default();
    let mut report = Report::of(&findings, &stats, &rules, false);
    report.subject = Some("the history of <repo>");
    let mut out = Vec::new();
    write(&report, &mut out).unwrap();
    let page = String::from_utf8(out).unwrap();
    assert!(page.contains("<p class=meta>Scanned: the history of &lt;repo&gt;.</p>"));
}

#[test]
fn a_hostile_rule_name_and_repository_stay_text_in_rows_charts_and_tables() {
    let rules = RuleSet::builtin().unwrap();
    let mut findings = pair_at(&rules, "a.env");
    let repo: std::sync::Arc<str> = std::sync::Arc::from("<svg onload=alert(1)>");
    for f in &mut findings {
        f.rule_name = "<b onmouseover=alert(1)>rule</b>".into();
        f.kind = Some("\"><script>alert(2)</script>".into());
        f.origin = Origin::Git {
            repo: Some(repo.clone()),
            path: "a.env".into(),
            blob: "c".repeat(40),
        };
    }
    let stats = Stats {
        audit: Some(AuditStats {
            repositories: 1,
            failed: 0,
        }),
        ..Stats::default()
    };
    let page = render(&findings, &rules, &stats, false);
    for markup in ["<svg onload", "<b onmouseover", "<script>alert"] {
        assert!(!page.contains(markup), "{markup} in {page}");
    }
    assert!(page.contains("Secrets per repository"));
    assert!(page.contains("<th scope=row>&lt;svg onload=alert(1)&gt;</th><td>1</td>"));
}

#[test]
fn secrets_are_redacted_unless_shown_and_the_pair_is_one_row() {
    let rules = RuleSet::builtin().unwrap();
    let mut findings = pair_at(&rules, "deploy/prod.env");
    findings.extend(pair_at(&rules, "old.env"));
    let page = render(&findings, &rules, &Stats::default(), false);
    assert!(!page.contains(SECRET), "{page}");
    assert!(page.contains("<td>Zq3d…tKwE</td>"), "{page}");
    assert_eq!(page.matches("<tr class=f ").count(), 1, "{page}");
    assert!(page.contains("<small>+1 more</small>"));
    assert!(page.contains(&format!("<dt>Key ID</dt><dd>{KEY_ID}</dd>")));
    assert!(page.contains("<dt id=fix-0>AWS access key pair (<code>aws-access-key-pair</code>)"));
    assert!(page.contains("Secrets are redacted."));
    let shown = render(&findings, &rules, &Stats::default(), true);
    assert!(shown.contains(SECRET), "{shown}");
    assert!(shown.contains("shown in full (--show-secrets)"));
}

#[test]
fn the_policy_allows_exactly_the_pages_own_style_and_scripts() {
    let rules = RuleSet::builtin().unwrap();
    let page = render(&pair_at(&rules, "a.env"), &rules, &Stats::default(), false);
    let policy = content_security_policy();
    assert!(policy.starts_with("default-src 'none'; "));
    assert!(!policy.contains("unsafe"));
    assert!(page.contains(&format!("content=\"{policy}\"")));
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            crate::decode::base64_encode(&Sha256::digest(text.as_bytes()))
        )
    };
    for (element, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        for body in elements(&page, element, close) {
            assert!(policy.contains(&hash(&body[element.len()..])), "{element}");
        }
    }
    // Nothing that could fetch: no external source, link or import.
    for fetch in ["src=", "href=\"http", "@import", "url(", "<link", "<iframe"] {
        assert!(!page.contains(fetch), "{fetch}");
    }
}

#[test]
fn the_timeline_counts_secrets_by_month_and_where_they_still_are() {
    let rules = RuleSet::builtin().unwrap();
    let november = 1_700_000_000; // 2023-11-14
    let february = 1_707_000_000; // 2024-02-03
    let mut findings = committed(pair_at(&rules, "a.env"), "ada", november, false);
    let mut other = committed(pair_at(&rules, "b.env"), "bob", february, true);
    for f in &mut other {
        f.secret = f.secret.replace("Zq3d", "Yy7x");
    }
    findings.extend(other);
    let page = render(&findings, &rules, &Stats::default(), false);
    assert!(page.contains("When the secrets were introduced, by month"));
    // Every month from the first to the last, the empty ones too.
    for (month, head, past) in [
        ("2023-11", 0, 1),
        ("2023-12", 0, 0),
        ("2024-01", 0, 0),
        ("2024-02", 1, 0),
    ] {
        let row = format!(
            "<tr><th scope=row>{month}</th><td>{head}</td><td>{past}</td><td>{}</td></tr>",
            head + past
        );
        assert!(page.contains(&row), "{row} in {page}");
    }
    assert!(page.contains("data-h=history"));
    assert!(
        page.contains("<td>2023-11-14 ada 000000000000</td>"),
        "{page}"
    );
}

#[test]
fn a_scan_without_history_has_no_timeline_and_a_clean_one_no_table() {
    let rules = RuleSet::builtin().unwrap();
    let page = render(&pair_at(&rules, "a.env"), &rules, &Stats::default(), false);
    assert!(!page.contains("When the secrets were introduced"));
    assert!(page.contains("Secrets by rule and kind"));
    let clean = render(&[], &rules, &Stats::default(), false);
    assert!(
        clean.contains("<h1>keyhound: no secrets found</h1>"),
        "{clean}"
    );
    assert!(!clean.contains("<table id=table>"));
    assert!(clean.contains("<header class=clean>"));
}

#[test]
fn the_first_page_the_style_sheet_shows_is_the_scripts_page_size() {
    // Two rows per finding: the style sheet hides those after the first page.
    assert!(STYLE.contains(&format!(
        ".js:not(.paged) #rows>tr.f:nth-child(-n+{}){{display:table-row}}",
        2 * rows::PAGE_SIZE
    )));
    assert!(SCRIPT.contains(&format!("size: {} }}", rows::PAGE_SIZE)));
}

#[test]
fn the_page_is_the_same_bytes_whatever_the_number_of_threads_rendering_it() {
    let rules = RuleSet::builtin().unwrap();
    let template = pair_at(&rules, "a.env");
    // Enough secrets for the rows to be rendered on several threads.
    let findings: Vec<Finding> = (0..3 * parallel::MIN_RUN)
        .flat_map(|i| {
            template.iter().map(move |f| Finding {
                secret: format!("{}{i:04}", &f.secret[..f.secret.len() - 4]),
                origin: Origin::File(format!("dir/{i:04}.env").into()),
                ..f.clone()
            })
        })
        .collect();
    let stats = Stats::default();
    let page = render(&findings, &rules, &stats, false);
    let report = Report::of(&findings, &stats, &rules, false);
    let remedies = Remedies::of(&report);
    let mut one_thread = Vec::new();
    for group in &report.groups {
        rows::write(group, &report, &remedies, &mut one_thread).unwrap();
    }
    let one_thread = String::from_utf8(one_thread).unwrap();
    assert!(page.contains(&one_thread));
    assert_eq!(page.matches("<tr class=f ").count(), report.groups.len());
}

#[test]
fn an_incomplete_scan_lists_what_was_not_read() {
    let rules = RuleSet::builtin().unwrap();
    let stats = Stats {
        skipped: vec![(
            Origin::File("locked<b>.env".into()),
            crate::source::SkipReason::Unreadable {
                error: "Permission denied".into(),
            },
        )],
        ..Stats::default()
    };
    let page = render(&[], &rules, &stats, false);
    assert!(
        page.contains("<h1>keyhound: scan incomplete</h1>"),
        "{page}"
    );
    assert!(page.contains(
        "<tr><td><code>locked&lt;b&gt;.env</code></td><td>cannot read: Permission denied</td></tr>"
    ));
}

#[test]
fn what_verification_analysis_images_and_encodings_found_is_shown_escaped() {
    use crate::finding::VerificationStatus;
    use crate::finding::{Access, AwsAccount, Decision, ImageProvenance, Verification};
    let rules = RuleSet::builtin().unwrap();
    let mut findings = pair_at(&rules, "layer/app.env");
    for f in &mut findings {
        f.aws_account = Some(AwsAccount {
            name: Some("prod <eu>".into()),
            ..AwsAccount::new("052310077262".into())
        });
        f.verification = Some(Verification {
            status: VerificationStatus::Live {
                arn: "arn:aws:iam::052310077262:user/<deploy>".into(),
                account: "052310077262".into(),
                user_id: "AIDAEXAMPLE".into(),
            },
            checked_at: "2024-03-01T12:00:00Z".into(),
            access: Some(Access {
                principal: "arn:aws:iam::052310077262:user/<deploy>".into(),
                administrator: true,
                actions: [("iam:CreateAccessKey".to_string(), Decision::Allowed)].into(),
                policies: vec!["AdministratorAccess (attached)".into()],
                not_visible: Vec::new(),
                quarantined: None,
                disagreements: Vec::new(),
                summary: "administrator".into(),
            }),
        });
        f.image = Some(ImageProvenance {
            layer: crate::source::image::Layer {
                index: 3,
                digest: "sha256:abc".into(),
                created_by: Some("COPY <src> /app".into()),
            },
            in_final_image: false,
        });
        f.decoded = vec![crate::decode::Encoding::Base64];
    }
    let page = render(&findings, &rules, &Stats::default(), false);
    // The counts at the top: one live key, an administrator.
    assert!(
        page.contains("<li class=bad><strong>1</strong> live</li>"),
        "{page}"
    );
    assert!(page.contains("1 of 1 live key analysed is an administrator."));
    assert!(page.contains("<tr class=admin><td><code>AKIAZT4HB6K7WLQX3N5D</code></td>"));
    // The row, and what it expands to.
    assert!(page.contains(" data-v=live"));
    assert!(page.contains("acts as <code>arn:aws:iam::052310077262:user/&lt;deploy&gt;</code>"));
    assert!(page.contains("<li class=allowed><code>iam:CreateAccessKey</code>: allowed</li>"));
    assert!(page.contains("<dt>Account</dt><dd>prod &lt;eu&gt; (052310077262)</dd>"));
    assert!(page.contains("<dt>Canary</dt><dd class=warn>"));
    assert!(page.contains("<p>Decoded from base64.</p>"));
    assert!(page.contains(
        "<p>Image layer 3 (sha256:abc), made by <code>COPY &lt;src&gt; /app</code>; deleted by a \
         later layer, but still shipped in this one.</p>"
    ));
    assert!(!page.contains("<deploy>") && !page.contains("<eu>") && !page.contains("<src>"));
}
