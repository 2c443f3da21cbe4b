//! Pack loading as a whole: shipped packs, collisions, errors with file:line:col.

use super::*;

fn src(file: &str, text: &str) -> PackSource {
    PackSource {
        file: file.into(),
        text: text.into(),
        builtin: false,
    }
}

fn load(text: &str) -> Result<StepLibrary, Vec<String>> {
    add_packs(builtin_library(), vec![src("steps/x.toml", text)])
}

#[test]
fn shipped_packs_load_and_their_examples_match() {
    let lib = builtin_library();
    let packs: Vec<_> = lib.defs().filter(|d| super::pack_of(&lib, d).is_some()).collect();
    assert!(packs.len() >= 7, "{}", packs.len());
    for def in packs {
        match lib.find(def.example_text()) {
            Match::One(d, _) => assert!(std::ptr::eq(d, def), "{}", def.example),
            other => panic!("{}: {other:?}", def.example),
        }
        assert!(def.module.starts_with("steps/"), "{}", def.module);
    }
}

#[test]
fn five_line_example_loads() {
    let text = include_str!("../../examples/init/steps/example.toml");
    let Ok(lib) = add_packs(builtin_library(), vec![src("steps/example.toml", text)]) else {
        panic!("the example loads")
    };
    assert!(
        lib.defs().any(|d| d.module == "steps/example.toml:4"),
        "the [[step]] line"
    );
}

#[test]
fn collision_with_a_builtin_names_both_places() {
    let err = load("[[step]]\nsentence = \"the service {string} should be running\"\nparams = [\"s\"]\nexample = 'Then the service \"x\" should be running'\ncommand = \"true\"\n")
        .err().expect("an error");
    assert!(err[0].starts_with("steps/x.toml:2:12: sentence"), "{err:?}");
    assert!(err[0].contains("src/steps/system"), "{err:?}");
}

#[test]
fn collision_between_user_packs_names_both_files_and_lines() {
    let a = "[[step]]\nsentence = \"the app is up\"\nexample = 'Then the app is up'\ncommand = \"true\"\n";
    let b = "# b\n[[step]]\nsentence = \"the app is up\"\nexample = 'Then the app is up'\ncommand = \"false\"\n";
    let err = add_packs(builtin_library(), vec![src("steps/a.toml", a), src("steps/b.toml", b)])
        .err()
        .expect("an error");
    assert_eq!(err.len(), 1, "{err:?}");
    assert!(err[0].starts_with("steps/b.toml:3:12: "), "{err:?}");
    assert!(err[0].contains("(steps/a.toml:1)"), "{err:?}");
}

#[test]
fn errors_carry_line_and_column() {
    let cases = [
        (
            "bad_regex.toml",
            "[[step]]\nsentence = \"x is fine\"\nexample = 'Then x is fine'\ncommand = \"true\"\nexpect.stdout_matches = \"([a-z\"\n",
            "steps/x.toml:5:25: bad regular expression: unclosed character class",
        ),
        (
            "unknown_placeholder.toml",
            "[[step]]\nsentence = \"y is {string}\"\nparams = [\"value\"]\nexample = 'Then y is \"a\"'\ncommand = \"echo {valeu}\"\n",
            "steps/x.toml:5:17: unknown placeholder {valeu} (did you mean {value}?)",
        ),
        (
            "unknown_key.toml",
            "[[step]]\nsentence = \"z\"\nexample = 'Then z'\ncomand = \"true\"\n",
            "steps/x.toml:4:1: unknown key `comand` (did you mean `command`?)",
        ),
        (
            "quoted.toml",
            "[[step]]\nsentence = \"q {string}\"\nparams = [\"v\"]\nexample = 'Then q \"a\"'\ncommand = \"echo '{v}'\"\n",
            "steps/x.toml:5:11: placeholder #1 inside quotes",
        ),
        (
            "params.toml",
            "[[step]]\nsentence = \"p {string} {int}\"\nparams = [\"v\"]\nexample = 'Then p \"a\" 1'\ncommand = \"true\"\n",
            "steps/x.toml:3:10: the sentence has 2 parameter(s) but `params` names 1",
        ),
        (
            "example.toml",
            "[[step]]\nsentence = \"r is ok\"\nexample = 'Then r is not ok'\ncommand = \"true\"\n",
            "steps/x.toml:3:11: example \"Then r is not ok\" does not match",
        ),
        (
            "expect.toml",
            "[[step]]\nsentence = \"s is ok\"\nexample = 'Then s is ok'\ncommand = \"true\"\nexpect.status = 200\n",
            "steps/x.toml:5:17: `expect.status` does not apply to a `command`",
        ),
    ];
    for (fixture, text, want) in cases {
        let on_disk = std::fs::read_to_string(format!("fixtures/packs/{fixture}")).unwrap();
        assert_eq!(on_disk, text, "fixtures/packs/{fixture} is the case's text");
        let err = load(text).err().expect("an error");
        assert!(
            err.iter().any(|e| e.starts_with(want)),
            "{fixture}: want {want:?}, got {err:?}"
        );
    }
}

#[test]
fn url_captures_stay_out_of_the_scheme_and_host_and_status_takes_a_capture() {
    let step = |url: &str, status: &str| {
        format!(
            "[[step]]\nsentence = \"page {{string}} {{int}}\"\nparams = [\"p\", \"code\"]\nexample = 'Then page \"/\" 200'\nhttp = {{ url = \"{url}\" }}\nexpect.status = {status}\n"
        )
    };
    assert!(load(&step("http://{address}{p}", "\"{code}\"")).is_ok());
    assert!(load(&step("http://{address}{p}", "200")).is_ok());
    let err = load(&step("http://{p}/", "200")).err().expect("an error");
    assert!(
        err[0].starts_with("steps/x.toml:5:24: the capture {p} would be the host of the URL"),
        "{err:?}"
    );
    let err = load(&step("http://{address}{p}", "\"2xx\"")).err().expect("an error");
    assert!(
        err[0].starts_with("steps/x.toml:6:17: `expect.status` \"2xx\" is not a status code or a placeholder"),
        "{err:?}"
    );
}

#[test]
fn macro_steps_are_checked_with_the_example() {
    let ok = "[[step]]\nsentence = \"the web tier is healthy\"\nexample = 'Then the web tier is healthy'\nsteps = ['Then the service \"nginx\" should be running', 'Then port 80 should be listening']\n";
    assert!(load(ok).is_ok());
    let shell = "[[step]]\nsentence = \"file {string} exists\"\nparams = [\"f\"]\nexample = 'Then file \"/x\" exists'\nsteps = ['Then the command \"test -f {f}\" should succeed']\n";
    let err = load(shell).err().expect("an error");
    assert!(
        err[0].contains("a capture cannot go into a command step's command line"),
        "{err:?}"
    );
    let undefined =
        "[[step]]\nsentence = \"t\"\nexample = 'Then t'\nsteps = ['Then the servise \"nginx\" should be running']\n";
    let err = load(undefined).err().expect("an error");
    assert!(err[0].starts_with("steps/x.toml:1: step"), "{err:?}");
    assert!(err[0].contains("did you mean"), "{err:?}");
    let keyword =
        "[[step]]\nsentence = \"u\"\nexample = 'Then u'\nsteps = ['Given the nginx configuration should be valid']\n";
    let err = load(keyword).err().expect("an error");
    assert!(err[0].contains("is a Then step"), "{err:?}");
}

#[test]
fn review_lists_what_user_steps_run() {
    let Ok(lib) = load(
        "[[step]]\nsentence = \"v {string}\"\nparams = [\"u\"]\nexample = 'Then v \"a\"'\ncommand = \"crontab -l -u {u}\"\n",
    ) else {
        panic!("loads")
    };
    assert_eq!(
        review(&lib),
        ["steps/x.toml:1: \"v {string}\" runs on the current host: crontab -l -u {u}"]
    );
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    assert_eq!(line_col("x", 0), (1, 1));
}

#[test]
fn http_steps_need_a_host_only_when_they_use_its_values() {
    let Ok(lib) = load(
        "[[step]]\nsentence = \"w is up\"\nexample = 'Then w is up'\nhttp = { url = \"http://{address}/\" }\n\n[[step]]\nsentence = \"x.example is up\"\nexample = 'Then x.example is up'\nhttp = { url = \"https://x.example/\" }\n",
    ) else {
        panic!("loads")
    };
    let needs = |text: &str| match lib.find(text) {
        Match::One(d, _) => d.needs_host,
        other => panic!("{other:?}"),
    };
    assert!(needs("w is up"));
    assert!(!needs("x.example is up"));
}

#[test]
fn a_pack_step_keeps_its_own_location() {
    let library = builtin_library();
    let def = library
        .defs()
        .find(|d| d.module.starts_with("steps/"))
        .expect("shipped packs are built in");
    assert_eq!(crate::steps::location(def), def.module);
}
