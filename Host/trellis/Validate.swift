import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisSearch

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check workflow files and report every problem with its file:line:column.",
        discussion: """
            Checks YAML syntax, unknown fields, duplicate step ids, that each `uses:` names a plugin \
            the deployment has loaded, `with:` against the plugin's input schema, references to steps \
            that are not upstream, undeclared inputs, expressions, durations, triggers and dependency \
            cycles. Exits with status 1 when any file has a problem.
            """)

    @OptionGroup var deployment: DeploymentOptions

    @Argument(help: ArgumentHelp("Workflow files.", valueName: "file"))
    var files: [String]

    @Flag(help: "Print JSON: one object per file with its problems.")
    var json = false

    struct Report: Encodable {
        var file: String
        var valid: Bool
        var problems: [String]
    }

    func run() throws {
        let logger = deployment.makeLogger()
        let configuration = try deployment.load()
        let manager = PluginManager(configuration: configuration, logger: logger)
        let settings: NotificationSettings
        do {
            settings = try NotificationSettings.parse(configuration)
        } catch {
            throw ValidationError(error.description)
        }
        let models: RouterSettings
        do {
            models = try RouterSettings.parse(configuration)
        } catch {
            throw ValidationError(error.description)
        }
        let catalog = HostCatalog(base: DeploymentCatalog(manager: manager, statuses: manager.loadAll()), settings: settings,
                                  models: models, search: SearchEngine(root: configuration.searchDirectory, plugins: manager))
        let loader = WorkflowLoader(catalog: catalog, allowExec: configuration.allowExec)
        var reports: [Report] = []
        // The deployment's default recovery pipelines apply to these workflows too.
        let defaultProblems = configuration.recoveryDefaultProblems(catalog: catalog)
            + configuration.notificationRecoveryProblems(catalog: catalog)
        if !defaultProblems.isEmpty {
            reports.append(Report(file: configuration.file ?? "(deployment config)", valid: false, problems: defaultProblems))
        }
        for file in files {
            let result = loader.load(file: file)
            reports.append(Report(file: file, valid: result.problems.isEmpty, problems: result.problems.map(\.description)))
        }
        if json {
            try printJSON(reports)
        } else {
            for report in reports {
                if report.valid {
                    print("\(report.file): ok")
                } else {
                    for problem in report.problems { print(problem) }
                }
            }
            let count = reports.reduce(0) { $0 + $1.problems.count }
            if count > 0 { warn("\(count) problem\(count == 1 ? "" : "s") in \(reports.filter { !$0.valid }.count) of \(reports.count) file\(reports.count == 1 ? "" : "s")") }
        }
        if reports.contains(where: { !$0.valid }) { throw ExitCode(1) }
    }
}
