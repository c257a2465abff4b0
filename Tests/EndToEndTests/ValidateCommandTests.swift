import Foundation
import Testing

/// `trellis validate` against the real deployment: plugins are checked by
/// what actually loaded, and `with:` against their manifests' input schemas.
@Suite struct ValidateCommandTests {
    let plugins = """
          channel.stdout:
          provider.offline:
          recovery.fixed-delay:
          analyzer.whitespace:
            enabled: false
        """

    @Test func theDemoWorkflowIsValid() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        let result = try workspace.trellis("validate", "\(CLI.packageRoot)/docs/examples/demo.yaml")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("demo.yaml: ok\n"))
    }

    @Test func everyProblemIsReportedWithItsPosition() throws {
        let workspace = try Workspace()
        try workspace.config(plugins)
        try workspace.write("bad.yaml", """
            name: broken
            steps:
              - id: ask
                uses: provider.offline
                with: { messages: [{ role: robot, content: hi }], max_tokens: 0 }
                recovery:
                  - uses: recovery.fixed-delay
                    with: { max_attempts: "3" }
              - id: split
                uses: analyzer.whitespace
              - id: tell
                uses: channel.stdout
                needs: [ask, later]
                with: { text: "${{ steps.ask.output.text }}" }
              - id: later
                uses: noop
                needs: [tell]
            """)
        try workspace.write("good.yaml", "name: fine\nsteps:\n  - id: a\n    uses: noop\n")
        let result = try workspace.trellis("validate", "good.yaml", "bad.yaml")
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("good.yaml: ok"))
        #expect(lines.contains { $0.hasPrefix("bad.yaml:5:26: steps[0].with.messages[0].role: must be one of") }, "\(lines)")
        #expect(lines.contains("bad.yaml:5:55: steps[0].with.max_tokens: must be at least 1"))
        #expect(lines.contains("bad.yaml:8:17: steps[0].recovery[0].with.max_attempts: expected integer, got string"))
        #expect(lines.contains { $0.hasPrefix("bad.yaml:10:5: plugin 'analyzer.whitespace' is not available: enabled: false") })
        #expect(lines.contains { $0.contains("dependency cycle: ") && $0.contains("tell") && $0.contains("later") })
        #expect(result.stderr.contains("problems in 1 of 2 files"))

        let asJSON = try workspace.trellis("validate", "--json", "bad.yaml")
        let reports = try #require(try json(asJSON.stdout) as? [[String: Any]])
        #expect(reports.first?["valid"] as? Bool == false)
    }

    @Test func execIsRefusedUnlessTheDeploymentAllowsIt() throws {
        let workspace = try Workspace()
        try workspace.write("run.yaml", "name: x\nsteps:\n  - id: a\n    uses: exec\n    with: { command: [true] }\n")
        try workspace.config("  {}")
        #expect(try workspace.trellis("validate", "run.yaml").stdout.contains("exec steps are disabled"))
        try workspace.config("  {}", extra: "exec: true\n")
        #expect(try workspace.trellis("validate", "run.yaml").status == 0)
    }

    /// `recovery_defaults.channel` and `notifications.recovery`: the same
    /// checks, at the same place in the config (lines 4–6).
    @Test(arguments: ["recovery_defaults:\n  channel:", "notifications:\n  recovery:"])
    func theDeploymentsPipelinesAreCheckedWithTheirPositions(section: String) throws {
        let workspace = try Workspace()
        try workspace.write("ok.yaml", "name: x\nsteps:\n  - id: a\n    uses: channel.null\n")
        try workspace.config("  channel.null:\n  recovery.retry:", extra: """
            \(section)
                - uses: recovery.retry
                  with: { max_attempts: "three" }
                - uses: recovery.rety

            """)
        let result = try workspace.trellis("validate", "ok.yaml")
        #expect(result.status != 0)
        #expect(result.stdout.contains("trellis.yaml:5:"), "the bad parameter is located in the config: \(result.stdout)")
        #expect(result.stdout.contains("max_attempts"))
        #expect(result.stdout.contains("trellis.yaml:6:"), "the unknown plugin too: \(result.stdout)")
        #expect(result.stdout.contains("unknown recovery plugin 'recovery.rety' (did you mean 'recovery.retry'?)"))
        #expect(result.stdout.contains("ok.yaml: ok"), "the workflow itself is fine")

        try workspace.config("  channel.null:\n  recovery.retry:", extra: """
            \(section)
                - uses: recovery.retry
                  with: { max_attempts: 3, delay_ms: 1 }

            """)
        #expect(try workspace.trellis("validate", "ok.yaml").status == 0)
        let run = try workspace.trellis("run", "ok.yaml")
        #expect(run.status == 0, "\(run.stderr)")
    }
}

/// Files that cannot be read as text say so plainly: no Foundation error
/// codes, no usage text, exit 1.
@Suite struct UnreadableFileTests {
    @Test func aWorkflowThatIsNotUTF8ADirectoryOrMissingSaysWhat() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\n")
        try Data("name: x\nsteps: [{ id: a, uses: noop, with: { t: \"caf".utf8 + [0xE9] + "\" } }]\n".utf8)
            .write(to: URL(fileURLWithPath: "\(workspace.path)/latin1.yaml"))
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/adir.yaml", withIntermediateDirectories: true)
        for (file, message) in [("latin1.yaml", "is not UTF-8 text (the first invalid byte is at offset 52)"),
                                ("adir.yaml", "is a directory, not a file"), ("nope.yaml", "does not exist")] {
            let run = try workspace.trellis("run", file)
            #expect(run.status == 1, "\(file)")
            #expect(run.stderr.contains("error: the workflow \(file) \(message)"), "\(run.stderr)")
            #expect(!run.stderr.contains("Usage:") && !run.stderr.contains("NSCocoaErrorDomain"))
            let validate = try workspace.trellis("validate", file)
            #expect(validate.status == 1)
            #expect(validate.stderr.contains("\(file):1:1: the workflow file \(message)") || validate.stdout.contains("\(file):1:1: the workflow file \(message)"),
                    "\(validate.stdout)\(validate.stderr)")
        }
    }

    @Test func aDeploymentConfigThatIsADirectorySaysSoWithoutUsage() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/conf.yaml", withIntermediateDirectories: true)
        let list = try workspace.trellis("plugins", "list", "--config", "conf.yaml")
        #expect(list.status == 1)
        #expect(list.stderr.contains("it is a directory, not a file"), "\(list.stderr)")
        #expect(!list.stderr.contains("Usage:"))
    }
}

/// A workflow secret whose variable is unset refuses only the workflows
/// that use it, at validation, saying why; every other run goes on.
@Suite struct UnresolvedSecretTests {
    @Test func onlyAWorkflowThatUsesAnUnresolvableSecretIsRefused() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: """
            store: trellis.db
            secrets: { PRESENT: "${env:TRELLIS_TEST_PRESENT}", ABSENT: "${env:TRELLIS_TEST_NOWHERE}" }

            """)
        try workspace.write("uses-present.yaml", "name: p\nsteps: [{ id: a, uses: noop, with: { t: \"${{ secrets.PRESENT }}\" } }]\n")
        try workspace.write("uses-absent.yaml", "name: q\nsteps: [{ id: a, uses: noop, with: { t: \"${{ secrets.ABSENT }}\" } }]\n")
        try workspace.write("uses-none.yaml", "name: r\nsteps: [{ id: a, uses: channel.null }]\n")
        let environment = ["TRELLIS_TEST_PRESENT": "present-value-1"]
        for file in ["uses-present.yaml", "uses-none.yaml"] {
            let run = try workspace.trellis("run", file, environment: environment)
            #expect(run.status == 0, "\(file): \(run.stderr)")
        }
        let refused = try workspace.trellis("run", "uses-absent.yaml", environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("refers to secrets.ABSENT, which cannot be resolved here:"), "\(refused.stderr)")
        #expect(refused.stderr.contains("${env:TRELLIS_TEST_NOWHERE}, which is not set"), "\(refused.stderr)")
        let validated = try workspace.trellis("validate", "uses-absent.yaml", environment: environment)
        #expect(validated.status == 1)
    }
}

/// Command-line mistakes get messages that say what was meant.
@Suite struct CommandLineMistakeTests {
    @Test func aMistypedCommandSuggestsTheRightOne() throws {
        let workspace = try Workspace()
        for (typed, meant) in [("rnu", "run"), ("serv", "serve"), ("vaildate", "validate")] {
            let result = try workspace.trellis(typed, "x.yaml")
            #expect(result.status == 64)
            #expect(result.stderr.contains("unknown command '\(typed)' (did you mean '\(meant)'?)"), "\(result.stderr)")
        }
        let help = try workspace.trellis("help", "run")
        #expect(help.stdout.contains("Run a workflow to completion in the foreground."), "help is still a command")
    }

    @Test func aPluginIDThatCannotBeOneIsRefused() throws {
        let workspace = try Workspace()
        let call = try workspace.trellis("plugins", "call", "../x")
        #expect(call.status != 0)
        #expect(call.stderr.contains("'../x' is not a plugin id"), "\(call.stderr)")
        let inspect = try workspace.trellis("plugins", "inspect", "Bad Id")
        #expect(inspect.status != 0)
        #expect(inspect.stderr.contains("'Bad Id' is neither a plugin id"), "\(inspect.stderr)")
    }

    @Test func aStorePathThatCannotBeOneSaysWhy() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: "\(workspace.path)/data", withIntermediateDirectories: true)
        let directory = try workspace.trellis("runs", "list", "--store", "data")
        #expect(directory.status == 1)
        #expect(directory.stderr.contains("the store path data is a directory; give a file in it, e.g. data/trellis.db"), "\(directory.stderr)")
        #expect(!directory.stderr.contains("Usage:"))
        let empty = try workspace.trellis("runs", "list", "--store", "")
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("the store path is empty"), "\(empty.stderr)")
    }

    @Test func aNegativeLimitIsRefusedSayingWhy() throws {
        let workspace = try Workspace()
        try workspace.config("  channel.null:\n", extra: "store: trellis.db\n")
        let result = try workspace.trellis("runs", "list", "--limit", "-1")
        #expect(result.status != 0)
        #expect(result.stderr.contains("--limit must be at least 1, not -1"), "\(result.stderr)")
    }
}
