//! The deployment examples under `deploy/`: a Kubernetes Indexed Job and a GitHub Actions
//! workflow that audit an organisation's repositories in shards and merge the shard reports.
//! Nothing runs them here, so these tests hold them to what keyhound and the two platforms
//! require: each file parses; the shard count agrees wherever it is written; the reports land
//! where the merge reads them; their shell scripts pass a shard's report on whatever keyhound
//! finds (run against a stand-in for keyhound); and every keyhound command line in them uses
//! only flags the built binary accepts.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
#[cfg(unix)]
use std::path::Path;
#[cfg(unix)]
use std::process::Command;
use std::sync::Mutex;

use serde::Deserialize;
use serde_yaml::Value;

use common::{crate_root, keyhound, run};

const KUBERNETES: &str = "deploy/kubernetes/audit-job.yaml";
const WORKFLOW: &str = "deploy/github-actions/org-audit.yml";

/// What a pod of an Indexed Job finds its index in (Kubernetes sets it).
const INDEX: &str = "$JOB_COMPLETION_INDEX";
/// What a job of the workflow's matrix finds its shard in.
const MATRIX_SHARD: &str = "${{ matrix.shard }}";

/// The names of keyhound's output file and format options.
const OUTPUT: &[&str] = &["-o", "--output"];
const FORMAT: &[&str] = &["-f", "--format"];

// ---------------------------------------------------------------------------------------------
// Reading the files

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every YAML document of a file.
fn documents(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}")))
        .collect()
}

#[track_caller]
fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    let Some(text) = value.as_str() else {
        panic!("{what} is not a string: {value:?}")
    };
    text
}

#[track_caller]
fn integer(value: &Value, what: &str) -> u64 {
    let Some(n) = value.as_u64() else {
        panic!("{what} is not a non-negative integer: {value:?}")
    };
    n
}

#[track_caller]
fn list<'a>(value: &'a Value, what: &str) -> &'a [Value] {
    let Some(items) = value.as_sequence() else {
        panic!("{what} is not a list: {value:?}")
    };
    items
}

fn has_key(value: &Value, key: &str) -> bool {
    value.as_mapping().is_some_and(|m| m.contains_key(key))
}

// ---------------------------------------------------------------------------------------------
// Shell: the keyhound command lines of a script

/// Splits a shell script into its simple commands, each a list of words with quotes removed.
/// As much shell as these scripts use: quotes, backslash escapes and line continuations,
/// comments, the separators `;` `&` `|` `(` `)` and newline, and redirections (dropped with
/// their targets). A GitHub Actions expression `${{ … }}` stays whole inside its word.
fn simple_commands(script: &str) -> Vec<Vec<String>> {
    struct Words {
        commands: Vec<Vec<String>>,
        words: Vec<String>,
        word: Option<String>,
        /// The next word is the target of a redirection, not an argument.
        redirect: bool,
    }
    impl Words {
        fn push(&mut self, c: char) {
            self.word.get_or_insert_with(String::new).push(c);
        }
        fn end_word(&mut self) {
            if let Some(word) = self.word.take() {
                if std::mem::take(&mut self.redirect) {
                    return;
                }
                self.words.push(word);
            }
        }
        fn end_command(&mut self) {
            self.end_word();
            if !self.words.is_empty() {
                self.commands.push(std::mem::take(&mut self.words));
            }
        }
    }

    let chars: Vec<char> = script.chars().collect();
    let mut w = Words {
        commands: Vec::new(),
        words: Vec::new(),
        word: None,
        redirect: false,
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    if next != '\n' {
                        w.push(next);
                    }
                }
            }
            '\'' => {
                w.word.get_or_insert_with(String::new);
                while let Some(&next) = chars.get(i) {
                    i += 1;
                    if next == '\'' {
                        break;
                    }
                    w.push(next);
                }
            }
            '"' => {
                w.word.get_or_insert_with(String::new);
                while let Some(&next) = chars.get(i) {
                    i += 1;
                    match next {
                        '"' => break,
                        '\\' => {
                            let Some(&escaped) = chars.get(i) else { break };
                            i += 1;
                            match escaped {
                                '\n' => {}
                                '"' | '\\' | '$' | '`' => w.push(escaped),
                                _ => {
                                    w.push('\\');
                                    w.push(escaped);
                                }
                            }
                        }
                        _ => w.push(next),
                    }
                }
            }
            '$' if chars[i..].starts_with(&['{', '{']) => {
                w.push('$');
                while let Some(&next) = chars.get(i) {
                    i += 1;
                    w.push(next);
                    if next == '}' && chars.get(i) == Some(&'}') {
                        i += 1;
                        w.push('}');
                        break;
                    }
                }
            }
            '#' if w.word.is_none() => {
                while chars.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            ' ' | '\t' => w.end_word(),
            '\n' | ';' | '&' | '|' | '(' | ')' => w.end_command(),
            '<' | '>' => {
                // A file descriptor number before the operator (`2>`) belongs to it.
                if w.word
                    .as_deref()
                    .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
                {
                    w.word = None;
                } else {
                    w.end_word();
                }
                while chars.get(i).is_some_and(|&c| c == '>' || c == '&') {
                    i += 1;
                }
                w.redirect = true;
            }
            _ => w.push(c),
        }
    }
    w.end_command();
    w.commands
}

/// The command lines of a script that run keyhound, each without the `keyhound` word.
fn keyhound_command_lines(script: &str) -> Vec<Vec<String>> {
    simple_commands(script)
        .into_iter()
        .filter_map(|words| {
            let start = words.iter().position(|word| {
                let prefix = [
                    "!", "if", "then", "else", "elif", "do", "while", "until", "exec",
                ];
                let assignment = word.split_once('=').is_some_and(|(name, _)| {
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                !prefix.contains(&word.as_str()) && !assignment
            })?;
            let program = &words[start];
            (program == "keyhound" || program.ends_with("/keyhound"))
                .then(|| words[start + 1..].to_vec())
        })
        .collect()
}

/// The options `keyhound SUBCOMMAND --help` lists, each name (`-o` and `--output` alike) with
/// whether it takes a value; run once per subcommand.
fn options_of(subcommand: &str) -> BTreeMap<String, bool> {
    static HELP: Mutex<BTreeMap<String, BTreeMap<String, bool>>> = Mutex::new(BTreeMap::new());
    let mut help = HELP.lock().unwrap_or_else(|e| e.into_inner());
    help.entry(subcommand.to_string())
        .or_insert_with(|| {
            let out = run(keyhound().args([subcommand, "--help"]));
            assert_eq!(
                out.code,
                Some(0),
                "`keyhound {subcommand} --help` failed: is `{subcommand}` a subcommand?\n{}",
                out.stderr
            );
            let mut options = BTreeMap::new();
            // An option is defined on a line of its own, indented less than the descriptions
            // (which may start with a flag they mention): `  -o, --output <FILE>`.
            for line in out.stdout_text().lines() {
                let indent = line.len() - line.trim_start().len();
                if indent >= 8 || !line.trim_start().starts_with('-') {
                    continue;
                }
                let takes_value = line.contains('<');
                for name in line.split([' ', ',']) {
                    let name = name.trim_end_matches("...");
                    if name.len() > 1 && name.starts_with('-') {
                        options.insert(name.to_string(), takes_value);
                    }
                }
            }
            assert!(
                options.contains_key("--help"),
                "no options read from `keyhound {subcommand} --help`"
            );
            options
        })
        .clone()
}

/// One keyhound command line, read with the options its subcommand's help lists.
#[derive(Debug)]
struct Invocation {
    subcommand: String,
    /// Each option as written (`-o`, `--format`) with its value, if it takes one.
    options: Vec<(String, Option<String>)>,
    operands: Vec<String>,
}

impl Invocation {
    fn parse(words: &[String]) -> Invocation {
        let (subcommand, rest) = words.split_first().expect("keyhound with a subcommand");
        assert!(
            !subcommand.starts_with('-'),
            "`keyhound {}`: options go after the subcommand here",
            words.join(" ")
        );
        let known = options_of(subcommand);
        let (mut options, mut operands) = (Vec::new(), Vec::new());
        let mut rest = rest.iter();
        while let Some(word) = rest.next() {
            if word.len() > 1 && word.starts_with('-') {
                if let Some((name, value)) = word.split_once('=') {
                    options.push((name.to_string(), Some(value.to_string())));
                } else if known.get(word.as_str()) == Some(&true) {
                    options.push((word.clone(), rest.next().cloned()));
                } else {
                    options.push((word.clone(), None));
                }
            } else {
                operands.push(word.clone());
            }
        }
        Invocation {
            subcommand: subcommand.clone(),
            options,
            operands,
        }
    }

    /// The value of the option, given once under any of its names.
    #[track_caller]
    fn value(&self, names: &[&str]) -> &str {
        let values: Vec<&str> = self
            .options
            .iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .filter_map(|(_, value)| value.as_deref())
            .collect();
        match values[..] {
            [value] => value,
            _ => panic!("{names:?} should be given once, with a value: {self:?}"),
        }
    }

    /// Every report the command writes: the format of `-f` and the file of `-o` (None: standard
    /// output), then each `--report FORMAT:PATH`.
    fn reports_written(&self) -> Vec<(String, Option<String>)> {
        let mut written = vec![(
            self.value(FORMAT).to_string(),
            self.has(OUTPUT).then(|| self.value(OUTPUT).to_string()),
        )];
        for (name, value) in &self.options {
            if name == "--report" {
                let value = value.as_deref().expect("--report FORMAT:PATH");
                let (format, path) = value.split_once(':').expect("--report FORMAT:PATH");
                written.push((format.to_string(), Some(path.to_string())));
            }
        }
        written
    }

    /// Whether the option is given, under any of its names.
    fn has(&self, names: &[&str]) -> bool {
        self.options
            .iter()
            .any(|(n, _)| names.contains(&n.as_str()))
    }
}

/// The keyhound invocations of a script.
fn invocations(script: &str) -> Vec<Invocation> {
    keyhound_command_lines(script)
        .iter()
        .map(|words| Invocation::parse(words))
        .collect()
}

/// The one invocation of `keyhound SUBCOMMAND` in a script.
#[track_caller]
fn only_invocation(script: &str, subcommand: &str) -> Invocation {
    let mut found: Vec<Invocation> = invocations(script)
        .into_iter()
        .filter(|i| i.subcommand == subcommand)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one `keyhound {subcommand}` expected in:\n{script}"
    );
    found.remove(0)
}

// ---------------------------------------------------------------------------------------------
// The Kubernetes manifests

struct Manifests(Vec<Value>);

impl Manifests {
    fn load() -> Manifests {
        Manifests(documents(KUBERNETES))
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0.iter().filter(move |doc| doc["kind"] == kind)
    }

    /// The name of the one PersistentVolumeClaim the file defines.
    fn claim(&self) -> &str {
        let claims: Vec<&Value> = self.of_kind("PersistentVolumeClaim").collect();
        assert_eq!(claims.len(), 1, "one PersistentVolumeClaim expected");
        text(&claims[0]["metadata"]["name"], "the claim's name")
    }

    /// The Indexed Job: one pod per shard.
    fn audit_job(&self) -> &Value {
        let jobs: Vec<&Value> = self
            .of_kind("Job")
            .filter(|job| job["spec"]["completionMode"] == "Indexed")
            .collect();
        assert_eq!(jobs.len(), 1, "one Indexed Job expected");
        jobs[0]
    }

    /// The other Job, which merges the shard reports.
    fn merge_job(&self) -> &Value {
        let jobs: Vec<&Value> = self
            .of_kind("Job")
            .filter(|job| job["spec"]["completionMode"] != "Indexed")
            .collect();
        assert_eq!(jobs.len(), 1, "one Job besides the Indexed Job expected");
        jobs[0]
    }
}

fn job_name(job: &Value) -> &str {
    text(&job["metadata"]["name"], "a Job's name")
}

fn pod_spec(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]
}

/// The Job's only container.
fn container(job: &Value) -> &Value {
    let containers = list(&pod_spec(job)["containers"], "containers");
    assert_eq!(containers.len(), 1, "{}: one container", job_name(job));
    &containers[0]
}

/// The script a container runs through `sh -c`: only a shell expands `$JOB_COMPLETION_INDEX`
/// (Kubernetes expands `$(NAME)` only).
fn shell_script(job: &Value) -> String {
    let c = container(job);
    let words: Vec<&str> = [&c["command"], &c["args"]]
        .into_iter()
        .filter(|v| !v.is_null())
        .flat_map(|v| list(v, "command and args"))
        .map(|v| text(v, "a command word"))
        .collect();
    match words[..] {
        ["sh" | "/bin/sh", "-c", script] => script.to_string(),
        _ => panic!("{} should run `sh -c SCRIPT`: {words:?}", job_name(job)),
    }
}

/// Where the container mounts the volume backed by `claim` (writable).
fn claim_mount(job: &Value, claim: &str) -> String {
    let volumes: Vec<&str> = list(&pod_spec(job)["volumes"], "volumes")
        .iter()
        .filter(|v| v["persistentVolumeClaim"]["claimName"] == claim)
        .map(|v| text(&v["name"], "a volume's name"))
        .collect();
    let mounts: Vec<&Value> = list(&container(job)["volumeMounts"], "volumeMounts")
        .iter()
        .filter(|m| volumes.contains(&text(&m["name"], "a mount's volume")))
        .collect();
    assert_eq!(
        mounts.len(),
        1,
        "{} should mount the claim {claim} once",
        job_name(job)
    );
    assert_ne!(
        mounts[0]["readOnly"],
        true,
        "{} mounts {claim} read-only",
        job_name(job)
    );
    text(&mounts[0]["mountPath"], "a mount path").to_string()
}

/// `path` with the directory `mount` taken off: where it is inside the volume.
#[track_caller]
fn inside(path: &str, mount: &str) -> String {
    let Some(rest) = path.strip_prefix(mount).and_then(|r| r.strip_prefix('/')) else {
        panic!("{path} is not in the volume mounted at {mount}")
    };
    rest.to_string()
}

/// The number of shards: the Indexed Job's completions.
fn completions(job: &Value) -> u64 {
    integer(&job["spec"]["completions"], "spec.completions")
}

#[test]
fn every_kubernetes_document_names_its_api_kind_and_object() {
    let manifests = Manifests::load();
    let kinds: Vec<&str> = manifests
        .0
        .iter()
        .map(|d| text(&d["kind"], "kind"))
        .collect();
    assert_eq!(
        kinds,
        ["ConfigMap", "PersistentVolumeClaim", "Job", "Job"],
        "the list, its volume, the shards and the merge"
    );
    for doc in &manifests.0 {
        let kind = text(&doc["kind"], "kind");
        assert!(!text(&doc["apiVersion"], "apiVersion").is_empty(), "{kind}");
        assert!(
            !text(&doc["metadata"]["name"], "metadata.name").is_empty(),
            "{kind}"
        );
        if kind == "Job" {
            assert_eq!(doc["apiVersion"], "batch/v1");
        }
    }
    let modes = list(
        &manifests.of_kind("PersistentVolumeClaim").next().unwrap()["spec"]["accessModes"],
        "accessModes",
    );
    assert!(
        modes.iter().any(|m| m == "ReadWriteMany"),
        "every shard pod writes to the claim at once: {modes:?}"
    );
}

#[test]
fn indexed_job_audits_shard_index_of_completions_into_the_shared_volume() {
    let manifests = Manifests::load();
    let job = manifests.audit_job();
    let spec = &job["spec"];
    let shards = completions(job);
    assert!(shards >= 1);
    let parallelism = integer(&spec["parallelism"], "spec.parallelism");
    assert!(
        (1..=shards).contains(&parallelism),
        "parallelism {parallelism}"
    );
    assert!(
        has_key(spec, "backoffLimitPerIndex") || has_key(spec, "backoffLimit"),
        "a retry limit"
    );
    integer(&spec["ttlSecondsAfterFinished"], "ttlSecondsAfterFinished");
    assert_eq!(
        pod_spec(job)["restartPolicy"],
        "Never",
        "a Job needs Never or OnFailure, and backoffLimitPerIndex needs Never"
    );

    let script = shell_script(job);
    let audit = only_invocation(&script, "audit");
    assert_eq!(audit.value(&["--shard"]), format!("{INDEX}/{shards}"));
    assert_eq!(audit.value(FORMAT), "json", "merge reads JSON");
    let output = audit.value(OUTPUT);
    let mount = claim_mount(job, manifests.claim());
    let report = inside(output, &mount);
    assert!(
        report.contains(INDEX),
        "each shard writes a report of its own: {report}"
    );
    assert!(
        inside(audit.value(&["--cache"]), &mount).contains(INDEX),
        "one cache file per shard: SQLite locking is not to be trusted on a shared volume"
    );

    // The list comes from the ConfigMap of the same file.
    let repos = audit.value(&["--repos"]);
    let config_maps: Vec<&Value> = manifests.of_kind("ConfigMap").collect();
    let config_map = config_maps[0];
    let volume = list(&pod_spec(job)["volumes"], "volumes")
        .iter()
        .find(|v| v["configMap"]["name"] == config_map["metadata"]["name"])
        .expect("a volume of the ConfigMap");
    let mount = list(&container(job)["volumeMounts"], "volumeMounts")
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("the ConfigMap mounted");
    let key = inside(repos, text(&mount["mountPath"], "mountPath"));
    let list_text = text(&config_map["data"][key.as_str()], "the repository list");
    assert!(
        list_text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim().starts_with('#')),
        "the list has example entries"
    );
}

#[test]
fn merge_job_merges_the_reports_the_shards_write() {
    let manifests = Manifests::load();
    let (audit_job, merge_job) = (manifests.audit_job(), manifests.merge_job());
    assert!(
        ["Never", "OnFailure"].contains(&text(
            &pod_spec(merge_job)["restartPolicy"],
            "restartPolicy"
        )),
        "a Job needs Never or OnFailure"
    );
    assert_eq!(
        merge_job["spec"]["suspend"], true,
        "applying the file must not start the merge before the shards are done"
    );

    let claim = manifests.claim();
    let audit_mount = claim_mount(audit_job, claim);
    let shard_report = inside(
        only_invocation(&shell_script(audit_job), "audit").value(OUTPUT),
        &audit_mount,
    );
    let mount = claim_mount(merge_job, claim);
    let script = shell_script(merge_job);
    let merges = invocations(&script);
    let mut formats = Vec::new();
    for merge in &merges {
        assert_eq!(merge.subcommand, "merge");
        for report in &merge.operands {
            assert_eq!(
                inside(report, &mount),
                shard_report.replace(INDEX, "*"),
                "the merge reads every shard report, and only those"
            );
        }
        for (format, path) in merge.reports_written() {
            if let Some(path) = path {
                inside(&path, &mount);
            }
            formats.push(format);
        }
    }
    for format in ["sarif", "json", "html"] {
        assert!(
            formats.iter().any(|f| f == format),
            "a merged {format} report: {formats:?}"
        );
    }

    // The script checks that every shard's report is there (see the test of its exit status).
    let shards = list(&container(merge_job)["env"], "env")
        .iter()
        .find(|e| e["name"] == "SHARDS")
        .map(|e| text(&e["value"], "SHARDS"))
        .expect("the merge Job is told the number of shards");
    assert_eq!(shards, completions(audit_job).to_string());
}

#[test]
fn kubernetes_pods_run_unprivileged_on_a_read_only_root() {
    let manifests = Manifests::load();
    for job in manifests.of_kind("Job") {
        let name = job_name(job);
        let pod = pod_spec(job);
        let c = container(job);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
        let security = &c["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
        assert!(
            list(&security["capabilities"]["drop"], "capabilities.drop").contains(&"ALL".into()),
            "{name} drops every capability"
        );
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    !c["resources"][bound][resource].is_null(),
                    "{name}: {bound}.{resource}"
                );
            }
        }
    }
    // Clones go to a temporary directory: on a read-only root, that must be a volume.
    let audit = manifests.audit_job();
    let tmp = list(&container(audit)["volumeMounts"], "volumeMounts")
        .iter()
        .find(|m| m["mountPath"] == "/tmp")
        .expect("a volume at /tmp");
    let volume = list(&pod_spec(audit)["volumes"], "volumes")
        .iter()
        .find(|v| v["name"] == tmp["name"])
        .unwrap();
    assert!(has_key(volume, "emptyDir"), "{volume:?}");
}

// ---------------------------------------------------------------------------------------------
// The GitHub Actions workflow

struct Workflow(Value);

impl Workflow {
    fn load() -> Workflow {
        let mut docs = documents(WORKFLOW);
        assert_eq!(docs.len(), 1);
        Workflow(docs.remove(0))
    }

    fn jobs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0["jobs"]
            .as_mapping()
            .expect("jobs")
            .iter()
            .map(|(id, job)| (text(id, "a job id"), job))
    }

    /// The job whose steps run `keyhound SUBCOMMAND`, with its id.
    fn job_running(&self, subcommand: &str) -> (&str, &Value) {
        let jobs: Vec<(&str, &Value)> = self
            .jobs()
            .filter(|(_, job)| {
                steps(job).iter().any(|s| {
                    invocations(run_script(s))
                        .iter()
                        .any(|i| i.subcommand == subcommand)
                })
            })
            .collect();
        assert_eq!(jobs.len(), 1, "one job runs `keyhound {subcommand}`");
        jobs[0]
    }
}

fn steps(job: &Value) -> &[Value] {
    list(&job["steps"], "steps")
}

fn run_script(step: &Value) -> &str {
    step["run"].as_str().unwrap_or("")
}

/// The step of a job whose script runs `keyhound SUBCOMMAND`.
fn step_running<'a>(job: &'a Value, subcommand: &str) -> &'a Value {
    steps(job)
        .iter()
        .find(|s| {
            invocations(run_script(s))
                .iter()
                .any(|i| i.subcommand == subcommand)
        })
        .unwrap_or_else(|| panic!("no step runs `keyhound {subcommand}`"))
}

/// The one step of a job that uses the action `name` (any version).
fn step_using<'a>(job: &'a Value, name: &str) -> &'a Value {
    let found: Vec<&Value> = steps(job)
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(name))
        })
        .collect();
    assert_eq!(found.len(), 1, "one step uses {name}");
    found[0]
}

impl Workflow {
    /// The workflow's top-level `env`, each value as a string.
    fn env(&self) -> BTreeMap<String, String> {
        let Some(env) = self.0["env"].as_mapping() else {
            return BTreeMap::new();
        };
        env.iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Number(n) => n.to_string(),
                    _ => text(value, "an env value").to_string(),
                };
                (text(name, "an env name").to_string(), value)
            })
            .collect()
    }

    /// The audit's shard count: N of `--shard ${{ matrix.shard }}/N`, where N may be a
    /// variable of the top-level `env`.
    fn shards(&self, audit: &Invocation) -> u64 {
        let shard = audit.value(&["--shard"]);
        let (index, count) = shard.split_once('/').expect("--shard K/N");
        assert_eq!(index, MATRIX_SHARD, "each matrix job audits its own shard");
        let count =
            match count.strip_prefix('$') {
                Some(name) => self.env().get(name).cloned().unwrap_or_else(|| {
                    panic!("--shard {shard}: {name} is not in the workflow's env")
                }),
                None => count.to_string(),
            };
        count.parse().expect("N is a number")
    }
}

#[test]
fn workflow_runs_weekly_and_by_hand_reading_only() {
    let workflow = Workflow::load();
    let on = &workflow.0["on"];
    let schedule = list(&on["schedule"], "on.schedule");
    assert!(!schedule.is_empty());
    for entry in schedule {
        assert_eq!(
            text(&entry["cron"], "cron").split_whitespace().count(),
            5,
            "{entry:?}"
        );
    }
    assert!(has_key(on, "workflow_dispatch"));
    let permissions = workflow.0["permissions"]
        .as_mapping()
        .expect("top-level permissions");
    assert_eq!(permissions.len(), 1, "only contents: {permissions:?}");
    assert_eq!(workflow.0["permissions"]["contents"], "read");
    for (id, job) in workflow.jobs() {
        assert!(
            job["permissions"].is_null(),
            "{id} asks for permissions of its own"
        );
    }
}

#[test]
fn workflow_matrix_covers_every_shard_and_the_merge_reads_every_report() {
    let workflow = Workflow::load();
    let (audit_id, audit_job) = workflow.job_running("audit");
    let audit = only_invocation(run_script(step_running(audit_job, "audit")), "audit");
    let shards = workflow.shards(&audit);
    let strategy = &audit_job["strategy"];
    assert_eq!(strategy["fail-fast"], false, "a failed shard cancels none");
    let matrix: Vec<u64> = list(&strategy["matrix"]["shard"], "matrix.shard")
        .iter()
        .map(|v| integer(v, "a shard"))
        .collect();
    assert_eq!(matrix, (0..shards).collect::<Vec<_>>(), "shards 0 to N-1");
    assert_eq!(audit.value(FORMAT), "json", "merge reads JSON");

    // Each shard uploads its report as an artifact of its own...
    let output = audit.value(OUTPUT);
    assert!(
        output.contains(MATRIX_SHARD),
        "a report per shard: {output}"
    );
    let upload = &step_using(audit_job, "actions/upload-artifact")["with"];
    assert_eq!(text(&upload["path"], "upload path"), output);
    let artifact = text(&upload["name"], "artifact name");
    assert!(artifact.contains(MATRIX_SHARD), "{artifact}");

    // ...and the merge job, after every shard, downloads them all into one directory.
    let (_, merge_job) = workflow.job_running("merge");
    let needs = &merge_job["needs"];
    let needs: Vec<&str> = match needs.as_str() {
        Some(one) => vec![one],
        None => list(needs, "needs")
            .iter()
            .map(|n| text(n, "needs"))
            .collect(),
    };
    assert!(
        needs.contains(&audit_id),
        "the merge needs {audit_id}: {needs:?}"
    );
    let download = &step_using(merge_job, "actions/download-artifact")["with"];
    let pattern = text(&download["pattern"], "download pattern");
    assert_eq!(
        pattern,
        artifact.replace(MATRIX_SHARD, "*"),
        "every shard's artifact, and no other"
    );
    assert_eq!(download["merge-multiple"], true);
    let dir = download["path"].as_str().map(|p| format!("{p}/"));
    let expected = format!(
        "{}{}",
        dir.unwrap_or_default(),
        output.replace(MATRIX_SHARD, "*")
    );
    let merge_script = run_script(step_running(merge_job, "merge"));
    let merges = invocations(merge_script);
    let mut formats = Vec::new();
    for merge in &merges {
        assert_eq!(merge.operands, [expected.as_str()], "{merge:?}");
        formats.extend(
            merge
                .reports_written()
                .into_iter()
                .map(|(format, _)| format),
        );
    }
    for format in ["sarif", "json", "text", "html"] {
        assert!(
            formats.iter().any(|f| f == format),
            "a merged {format} report"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Both files

/// Every keyhound command line of both files, with where it is.
fn all_invocations() -> Vec<(String, Invocation)> {
    let mut out = Vec::new();
    let manifests = Manifests::load();
    for job in manifests.of_kind("Job") {
        for i in invocations(&shell_script(job)) {
            out.push((format!("{KUBERNETES}: {}", job_name(job)), i));
        }
    }
    for (id, job) in Workflow::load().jobs() {
        for step in steps(job) {
            for i in invocations(run_script(step)) {
                out.push((format!("{WORKFLOW}: {id}"), i));
            }
        }
    }
    out
}

#[test]
fn every_keyhound_command_uses_only_flags_keyhound_accepts() {
    let all = all_invocations();
    let mut subcommands: Vec<&str> = all.iter().map(|(_, i)| i.subcommand.as_str()).collect();
    subcommands.sort();
    subcommands.dedup();
    assert_eq!(subcommands, ["audit", "merge"], "the commands found");
    for (place, invocation) in &all {
        let known = options_of(&invocation.subcommand);
        for (name, value) in &invocation.options {
            let takes_value = known.get(name.as_str()).unwrap_or_else(|| {
                panic!(
                    "{place}: `keyhound {}` has no option {name}",
                    invocation.subcommand
                )
            });
            assert_eq!(
                *takes_value,
                value.is_some(),
                "{place}: {name} {value:?} in {invocation:?}"
            );
        }
    }
}

#[test]
fn no_keyhound_command_shows_secrets() {
    for (place, invocation) in all_invocations() {
        assert!(
            !invocation.has(&["--show-secrets"]),
            "{place}: reports stay redacted"
        );
    }
}

#[test]
fn the_command_line_reader_reads_shell_as_the_scripts_write_it() {
    let script = r#"
        # keyhound audit --commented-out
        set -- "$@" x; keyhound audit --repos 'a b' \
          --shard "$JOB_COMPLETION_INDEX/4" -o "${{ matrix.shard }} x.json" && status=0 || status=$?
        echo "keyhound merge --not-a-command"
        FOO=1 keyhound merge r/*.json -f text 2>&1 | tee out.txt; verdict $?
        cargo install --locked keyhound
        if ! keyhound merge a.json >> "$GITHUB_OUTPUT"; then exit 2; fi
    "#;
    let lines = keyhound_command_lines(script);
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "audit",
            "--repos",
            "a b",
            "--shard",
            "$JOB_COMPLETION_INDEX/4",
            "-o",
            "${{ matrix.shard }} x.json",
        ],
        vec!["merge", "r/*.json", "-f", "text"],
        vec!["merge", "a.json"],
    ];
    assert_eq!(lines, expected);
}

// ---------------------------------------------------------------------------------------------
// The scripts' exit statuses, against a stand-in for keyhound (a shell script)

#[cfg(unix)]
mod scripts {
    use super::*;

    /// A `keyhound` that writes `{}` to the file of its `-o`, then to the file of each
    /// `--report FORMAT:PATH` (unless STUB_REPORT=none), and exits with STUB_EXIT; or, when it
    /// comes to a file named STUB_FAIL, writes no more and exits 2 (an error), as keyhound
    /// does. What matters to the scripts is only which reports were written and the exit
    /// status.
    const STUB: &str = r#"#!/bin/sh
    outs=
    while [ "$#" -gt 0 ]; do
        case $1 in
            -o) outs="$outs $2"; shift ;;
            --report) outs="$outs ${2#*:}"; shift ;;
        esac
        shift
    done
    for out in $outs; do
        if [ "${out##*/}" = "${STUB_FAIL:-}" ]; then exit 2; fi
        if [ "${STUB_REPORT:-}" != none ]; then echo '{}' > "$out"; fi
    done
    exit "$STUB_EXIT"
    "#;

    /// How a merge script is tried: the number of shard reports there, keyhound's exit
    /// status, and the report file it fails to write, if any.
    type MergeCase = (u64, &'static str, Option<String>);

    /// A merge with every report and each outcome of keyhound, with a report missing or one
    /// too many, and with each of its output files failing to be written while the verdict
    /// is clean; each with the exit status (or recorded status) the script must give.
    fn merge_cases(shards: u64, merges: &[Invocation]) -> Vec<(MergeCase, i32)> {
        let mut cases = vec![
            ((shards, "0", None), 0),
            ((shards, "1", None), 1),
            ((shards, "2", None), 2),
            ((shards - 1, "0", None), 2),
            ((shards + 1, "0", None), 2),
            ((0, "0", None), 2),
        ];
        for merge in merges {
            for (_, path) in merge.reports_written() {
                if let Some(path) = path {
                    let name = path.rsplit('/').next().unwrap().to_string();
                    cases.push(((shards, "0", Some(name)), 2));
                }
            }
        }
        cases
    }

    /// A directory holding the stand-in `keyhound`, to put first on PATH.
    fn stub_bin(dir: &Path) -> String {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let stub = bin.join("keyhound");
        std::fs::write(&stub, STUB).unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Runs `script` with `shell` in `dir` and returns its exit status (its output is shown
    /// only when the test fails).
    fn run_script_in(dir: &Path, shell: &[&str], script: &str, env: &[(&str, &str)]) -> i32 {
        run_with_env(dir, shell, script, &BTreeMap::new(), env)
    }

    /// [`run_script_in`], with the variables of `base` set first (a workflow's `env`).
    fn run_with_env(
        dir: &Path,
        shell: &[&str],
        script: &str,
        base: &BTreeMap<String, String>,
        env: &[(&str, &str)],
    ) -> i32 {
        let out = Command::new(shell[0])
            .args(&shell[1..])
            .arg(script)
            .current_dir(dir)
            .env("PATH", stub_bin(dir))
            .envs(base)
            .envs(env.iter().copied())
            .output()
            .expect("the shell runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        out.status.code().expect("the script exited")
    }

    /// A Job's script with the paths of its volumes (but /tmp) moved under `root`.
    fn relocated(job: &Value, root: &Path) -> String {
        let mut script = shell_script(job);
        for mount in list(&container(job)["volumeMounts"], "volumeMounts") {
            let path = text(&mount["mountPath"], "mountPath");
            if path != "/tmp" {
                script = script.replace(&format!("{path}/"), &format!("{}{path}/", root.display()));
            }
        }
        script
    }

    #[test]
    fn a_kubernetes_shard_succeeds_whenever_it_wrote_its_report() {
        let manifests = Manifests::load();
        let job = manifests.audit_job();
        let output = only_invocation(&shell_script(job), "audit")
            .value(OUTPUT)
            .to_string();
        // Keyhound's exit status, whether it writes its report, and the pod's exit status.
        for (exit, report, pod_succeeds) in [
            ("0", true, true),
            ("1", true, true), // secrets found: the merge judges
            ("2", true, true), // some repository not audited: the report says so
            ("2", false, false),
            ("137", true, false), // killed: the report may be cut short
        ] {
            let dir = tempfile::tempdir().unwrap();
            let script = relocated(job, dir.path());
            let report_path = format!("{}{}", dir.path().display(), output.replace(INDEX, "1"));
            // A report of an earlier run must not pass for this one.
            std::fs::create_dir_all(Path::new(&report_path).parent().unwrap()).unwrap();
            std::fs::write(&report_path, "{}").unwrap();
            let stub_report = if report { "yes" } else { "none" };
            let status = run_script_in(
                dir.path(),
                &["sh", "-c"],
                &script,
                &[
                    ("JOB_COMPLETION_INDEX", "1"),
                    ("STUB_EXIT", exit),
                    ("STUB_REPORT", stub_report),
                ],
            );
            assert_eq!(
                status == 0,
                pod_succeeds,
                "keyhound exit {exit}, report written: {report}; the pod exited {status}"
            );
        }
    }

    #[test]
    fn the_kubernetes_merge_exits_with_the_verdict_and_refuses_a_missing_report() {
        let manifests = Manifests::load();
        let (audit_job, job) = (manifests.audit_job(), manifests.merge_job());
        let shards = completions(audit_job);
        let output = only_invocation(&shell_script(audit_job), "audit")
            .value(OUTPUT)
            .to_string();
        let merges = invocations(&shell_script(job));
        let cases = merge_cases(shards, &merges);
        for ((reports, exit, fail), expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            for k in 0..reports {
                let path = format!(
                    "{}{}",
                    dir.path().display(),
                    output.replace(INDEX, &k.to_string())
                );
                std::fs::create_dir_all(Path::new(&path).parent().unwrap()).unwrap();
                std::fs::write(&path, "{}").unwrap();
            }
            let status = run_script_in(
                dir.path(),
                &["sh", "-c"],
                &relocated(job, dir.path()),
                &[
                    ("SHARDS", &shards.to_string()),
                    ("STUB_EXIT", exit),
                    ("STUB_FAIL", fail.as_deref().unwrap_or("")),
                ],
            );
            assert_eq!(
                status, expected,
                "{reports} of {shards} reports; keyhound exits {exit}, fails to write {fail:?}"
            );
        }
    }

    /// A workflow step's script with the matrix expression replaced by a shard's number.
    fn workflow_step(script: &str) -> String {
        script.replace(MATRIX_SHARD, "0")
    }

    /// Runs a step's script as GitHub runs a step with `shell: bash` (there on a script file),
    /// with the workflow's `env`, in `dir`; returns its exit status.
    fn run_step(workflow: &Workflow, dir: &Path, script: &str, env: &[(&str, &str)]) -> i32 {
        let bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"];
        run_with_env(dir, &bash, script, &workflow.env(), env)
    }

    /// The `name=value` lines a step wrote to `$GITHUB_OUTPUT`.
    fn outputs(path: &Path) -> BTreeMap<String, String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_workflow_shard_passes_its_report_on_and_records_the_exit_status() {
        let workflow = Workflow::load();
        assert_eq!(
            workflow.0["defaults"]["run"]["shell"], "bash",
            "the steps run in bash with -e and pipefail"
        );
        let (_, job) = workflow.job_running("audit");
        let script = workflow_step(run_script(step_running(job, "audit")));
        let report = only_invocation(&script, "audit").value(OUTPUT).to_string();
        for (exit, written, step_succeeds) in [
            ("0", true, true),
            ("1", true, true),
            ("2", true, true),
            ("2", false, false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let output = dir.path().join("github-output");
            let status = run_step(
                &workflow,
                dir.path(),
                &script,
                &[
                    ("GITHUB_OUTPUT", output.to_str().unwrap()),
                    ("STUB_EXIT", exit),
                    ("STUB_REPORT", if written { "yes" } else { "none" }),
                ],
            );
            assert_eq!(
                status == 0,
                step_succeeds,
                "keyhound exit {exit}, report written: {written}; the step exited {status}"
            );
            assert_eq!(
                outputs(&output).get("status").map(String::as_str),
                Some(exit)
            );
            assert_eq!(dir.path().join(&report).is_file(), written);
        }
    }

    #[test]
    fn the_workflow_merge_records_the_worst_status() {
        let workflow = Workflow::load();
        let (_, job) = workflow.job_running("merge");
        let script = workflow_step(run_script(step_running(job, "merge")));
        let merges = invocations(&script);
        let glob = &merges[0].operands[0];
        let (_, audit_job) = workflow.job_running("audit");
        let shards = workflow.shards(&only_invocation(
            run_script(step_running(audit_job, "audit")),
            "audit",
        ));
        for ((reports, exit, fail), expected) in merge_cases(shards, &merges) {
            let dir = tempfile::tempdir().unwrap();
            for k in 0..reports {
                let path = dir.path().join(glob.replace('*', &k.to_string()));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, "{}").unwrap();
            }
            let output = dir.path().join("github-output");
            let status = run_step(
                &workflow,
                dir.path(),
                &script,
                &[
                    ("GITHUB_OUTPUT", output.to_str().unwrap()),
                    ("STUB_EXIT", exit),
                    ("STUB_FAIL", fail.as_deref().unwrap_or("")),
                ],
            );
            assert_eq!(
                status, 0,
                "the step records the verdict; a later one fails on it"
            );
            assert_eq!(
                outputs(&output).get("status"),
                Some(&expected.to_string()),
                "{reports} of {shards} reports; keyhound exits {exit}, fails to write {fail:?}"
            );
        }
    }

    #[test]
    fn the_workflow_summary_cannot_be_driven_by_what_a_repository_holds() {
        let workflow = Workflow::load();
        let (_, job) = workflow.job_running("merge");
        let script = steps(job)
            .iter()
            .map(run_script)
            .find(|s| s.contains("$GITHUB_STEP_SUMMARY"))
            .expect("a step writes the job summary");
        let text_report = invocations(run_script(step_running(job, "merge")))
            .into_iter()
            .find(|m| m.value(FORMAT) == "text")
            .map(|m| m.value(OUTPUT).to_string())
            .expect("a text merge written to a file");
        let dir = tempfile::tempdir().unwrap();
        // A path in an audited repository can hold anything, Markdown and HTML included.
        std::fs::write(
            dir.path().join(&text_report),
            "src/```\n</pre><img src=\"https://tracker.example/x.png\">:1:1  aws-access-key-id\n",
        )
        .unwrap();
        let summary = dir.path().join("summary.md");
        let status = run_step(
            &workflow,
            dir.path(),
            &workflow_step(script),
            &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
        );
        assert_eq!(status, 0);
        let written = std::fs::read_to_string(&summary).unwrap();
        assert!(written.contains("&lt;img src="), "{written}");
        assert!(!written.contains("<img"), "{written}");
        assert_eq!(written.matches("</pre>").count(), 1, "{written}");
    }
}
