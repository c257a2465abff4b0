import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisSearch
import TrellisStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the host: the scheduler and the runner, for a folder of workflows, until stopped.",
        discussion: """
            Loads the deployment's plugins and every workflow file (*.yaml, *.yml) in --workflows, \
            resumes unfinished runs, fires triggers (cron, interval, one-time, after another workflow), \
            and runs what `trellis trigger` queues. Logs JSON lines with run.id, step.id and plugin.id. \
            SIGTERM or SIGINT drains: no new steps start, running ones get the drain grace period, then \
            they are recorded as interrupted and resume on the next start.
            """)

    @OptionGroup var deployment: DeploymentOptions

    @Option(help: ArgumentHelp("The folder of workflow files.", valueName: "dir"))
    var workflows = "workflows"

    @Option(help: ArgumentHelp("The store file. Default: the deployment config's `store:`.", valueName: "path"))
    var store: String?

    func run() async throws {
        let setup = try HostSetup(deployment, logFormat: .json)
        let logger = setup.logger
        let store = try setup.openStore(override: self.store)
        let statuses = setup.plugins.loadAll()
        for status in statuses where status.state == .error {
            logger.error("plugin failed to load", metadata: ["plugin.id": "\(status.id)", "reason": "\(status.reason ?? "")"])
        }
        if statuses.contains(where: { $0.state == .error && $0.required }) {
            throw ValidationError("required plugins failed to load; see the log")
        }
        let search = setup.searchEngine()
        let catalog = HostCatalog(base: DeploymentCatalog(manager: setup.plugins, statuses: statuses),
                                  settings: try setup.notificationSettings(), models: try setup.routerSettings(), search: search)
        let pipelineProblems = setup.configuration.recoveryDefaultProblems(catalog: catalog)
            + setup.configuration.notificationRecoveryProblems(catalog: catalog)
        guard pipelineProblems.isEmpty else {
            for problem in pipelineProblems { logger.error("\(problem)") }
            throw ValidationError("the deployment config's recovery pipelines have problems; see the log (or run `trellis validate`)")
        }
        let entries = try loadWorkflowFolder(workflows, catalog: catalog, allowExec: setup.configuration.allowExec, logger: logger)
        // serve owns the notification queue: it delivers what waits.
        let notifications = try setup.startNotifications(store: store, mode: .owner)
        let engine = RunEngine(store: store, plugins: setup.plugins, configuration: try setup.runtimeConfiguration(),
                               catalog: catalog, notifications: notifications, router: try setup.modelRouter(store: store),
                               search: search, logger: logger)
        logRunEvents(of: engine, to: logger)
        let scheduler = Scheduler(engine: engine, store: store, logger: logger)
        scheduler.setWorkflows(entries)
        var history: HistoryIndexingService?
        if setup.configuration.indexRuns {
            let (indexer, why) = setup.historyIndexer(store: store, search: search)
            if let indexer { history = HistoryIndexingService(indexer: indexer, logger: logger) }
            if let why { logger.notice("\(why)") }
        }
        let group = ServiceGroup.host(engine: engine, notifications: notifications,
                                      driver: SchedulingService(engine: engine, scheduler: scheduler, logger: logger),
                                      checkpointing: store, history: history, logger: logger)
        try await group.run()
        logger.info("host stopped")
    }
}

/// Loads every workflow file in a folder; invalid ones are logged and skipped.
func loadWorkflowFolder(_ folder: String, catalog: any PluginCatalog, allowExec: Bool,
                        logger: Logger) throws -> [Scheduler.Entry] {
    guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
        throw ValidationError("cannot read the workflow folder '\(folder)': create it, or pass --workflows")
    }
    let loader = WorkflowLoader(catalog: catalog, allowExec: allowExec)
    var entries: [String: Scheduler.Entry] = [:]
    for name in files.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
        let result = loader.load(file: path)
        guard let workflow = result.workflow else {
            for problem in result.problems {
                logger.error("workflow skipped: \(problem.message)", metadata: ["file": "\(problem.location)"])
            }
            continue
        }
        if let existing = entries[workflow.name] {
            logger.error("workflow skipped: its name is already used", metadata: ["file": "\(path)", "workflow": "\(workflow.name)",
                                                                                 "first": "\(existing.workflow.file)"])
            continue
        }
        let source = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        entries[workflow.name] = Scheduler.Entry(workflow: workflow, source: source)
    }
    return Array(entries.values)
}
