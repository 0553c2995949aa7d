// `assay audit log|verify|export`.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "audit/audit_trail.h"
#include "catalog/dataset_ref.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status_macros.h"

namespace assay::cli {
namespace {

void PrintReport(const audit::VerifyReport& report, bool json, const std::string& what) {
  if (json) {
    PrintJson(std::cout, {{"ok", report.ok},
                          {"entries_checked", report.entries_checked},
                          {"first_bad_seq", report.first_bad_seq},
                          {"problem", report.problem}});
    return;
  }
  if (report.ok) {
    std::cout << "OK: " << what << ": " << FormatCount(report.entries_checked)
              << " entries, hash chain intact";
    if (!report.problem.empty()) std::cout << " (" << report.problem << ")";
    std::cout << "\n";
  } else if (report.first_bad_seq > 0) {
    std::cout << "FAILED: " << what << ": first bad entry is seq " << report.first_bad_seq << ": "
              << report.problem << "\n";
  } else {
    std::cout << "FAILED: " << what << ": " << report.problem << "\n";
  }
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, CommandContext& context) {
  auto* audit_cmd = app.add_subcommand("audit", "Read, verify and export the audit trail");
  audit_cmd->require_subcommand(1);

  struct LogFlags {
    std::string project, object;
    int64_t limit = 0;
    bool json = false;
  };
  auto log_flags = std::make_shared<LogFlags>();
  auto* log = audit_cmd->add_subcommand("log", "List audit entries, oldest first");
  log->add_option("--project", log_flags->project, "Only entries of this project");
  log->add_option("--object", log_flags->object,
                  "Only entries about this object: a project key or PROJECT/NAME[@vN]");
  log->add_option("--limit", log_flags->limit, "Only the newest N entries")
      ->check(CLI::NonNegativeNumber);
  log->add_flag("--json", log_flags->json, "Print JSON (every field, including hashes)");
  log->callback([&context, log_flags] {
    context.action = [&context, log_flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      audit::AuditFilter filter;
      if (!log_flags->project.empty()) filter.project_key = log_flags->project;
      if (!log_flags->object.empty()) {
        std::string object = log_flags->object;
        // PROJECT/NAME@v3 names entries about that version: filter by dataset, then version.
        if (const size_t at = object.find('@'); at != std::string::npos) object.resize(at);
        filter.object_id = object;
      }
      filter.limit = log_flags->limit;
      ASSAY_ASSIGN_OR_RETURN(auto entries,
                             workspace->audit_trail().List(workspace->metadata(), filter));
      if (const size_t at = log_flags->object.find('@'); at != std::string::npos) {
        const std::string version = log_flags->object.substr(at + 1);
        std::erase_if(
            entries, [&](const audit::AuditEntry& e) { return e.event.object_version != version; });
      }
      if (log_flags->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& entry : entries) out.push_back(audit::EntryToJson(entry));
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      TextTable table({"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "AFTER", "REASON"});
      for (const auto& entry : entries) {
        std::string object = entry.event.object_id;
        if (!entry.event.object_version.empty()) object += "@" + entry.event.object_version;
        table.AddRow({std::to_string(entry.seq), FormatTime(entry.time_micros), entry.event.actor,
                      entry.event.action, object, entry.event.after_hash.substr(0, 12),
                      entry.event.reason});
      }
      table.Print(std::cout, 48);
      return absl::OkStatus();
    };
  });

  struct VerifyFlags {
    std::string file;
    bool json = false;
  };
  auto verify_flags = std::make_shared<VerifyFlags>();
  auto* verify = audit_cmd->add_subcommand(
      "verify",
      "Recompute the hash chain and check the signed checkpoint (exit 1 if anything is wrong)");
  verify->add_option("--file", verify_flags->file,
                     "Verify an exported JSONL file instead of the workspace");
  verify->add_flag("--json", verify_flags->json, "Print JSON");
  verify->callback([&context, verify_flags] {
    context.action = [&context, verify_flags]() -> absl::Status {
      audit::VerifyReport report;
      std::string what;
      if (!verify_flags->file.empty()) {
        ASSAY_ASSIGN_OR_RETURN(report, audit::VerifyExportFile(verify_flags->file));
        what = verify_flags->file;
      } else {
        ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
        ASSAY_ASSIGN_OR_RETURN(report, workspace->VerifyAudit());
        what = "audit trail of " + workspace->home().string();
      }
      PrintReport(report, verify_flags->json, what);
      if (!report.ok) {
        return absl::DataLossError(
            report.first_bad_seq > 0
                ? absl::StrCat("audit verification failed at seq ", report.first_bad_seq)
                : absl::StrCat("audit verification failed: ", report.problem));
      }
      return absl::OkStatus();
    };
  });

  auto export_output = std::make_shared<std::string>();
  auto* exp = audit_cmd->add_subcommand(
      "export", "Write every entry as JSON lines (re-verifiable with `assay audit verify --file`)");
  exp->add_option("-o,--output", *export_output, "Output .jsonl file")->required();
  exp->callback([&context, export_output] {
    context.action = [&context, export_output]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_RETURN_IF_ERROR(workspace->audit_trail().Export(workspace->metadata(), *export_output));
      std::cout << "Exported the audit trail to " << *export_output << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace assay::cli
