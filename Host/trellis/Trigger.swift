import ArgumentParser
import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisRuntime
import TrellisStore

struct Trigger: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue a run of a workflow for the host (`trellis serve`) to run.",
        discussion: "Give a workflow file, or the name of a workflow in --workflows. Prints the run's id.")

    @OptionGroup var deployment: DeploymentOptions

    @Argument(help: ArgumentHelp("A workflow file or a workflow name.", valueName: "workflow"))
    var workflow: String

    @Option(name: .customLong("input"), help: ArgumentHelp("A workflow input (repeatable).", valueName: "name=value"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("The folder of workflow files to find a name in.", valueName: "dir"))
    var workflows = "workflows"

    @Option(help: ArgumentHelp("The store file. Default: the deployment config's `store:`.", valueName: "path"))
    var store: String?

    func run() throws {
        let setup = try HostSetup(deployment)
        let file = try locate()
        let (definition, source, _) = try setup.loadWorkflow(file: file)
        let values = try parseInputs(inputs, for: definition)
        let store = try setup.openStore(override: self.store)
        let (state, _) = try RunEngine.enqueue(workflow: definition, source: source, inputs: values, trigger: "manual", in: store)
        print(state.id)
        warn("queued run \(state.id) of \(definition.name); a running `trellis serve` starts it within a second")
    }

    /// The workflow file: the argument itself, or the file in --workflows whose `name:` matches.
    private func locate() throws -> String {
        if FileManager.default.fileExists(atPath: workflow) { return workflow }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: workflows)) ?? []
        var names: [String] = []
        for file in files.sorted() where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            let path = URL(fileURLWithPath: workflows).appendingPathComponent(file).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let name = (try? YAMLDocument(text: text, file: path))?.value["name"]?.stringValue else { continue }
            if name == workflow { return path }
            names.append(name)
        }
        let hint = closest(to: workflow, in: names).map { "; did you mean '\($0)'?" } ?? ""
        throw ValidationError("no workflow file or workflow named '\(workflow)' in \(workflows)\(hint)")
    }
}
