#include "registry/model_registry.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/saved_model_fixture.h"
#include "tests/testing/workspace_fixture.h"

namespace assay::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = test::kFixtureStartMicros;

// As std::string, so that a failed match prints text rather than characters.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

// A workspace with project CHURN, one dataset version and one recorded training, so that a
// saved-model version has the training its schema row must reference.
class ModelRegistryTest : public test::WorkspaceFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(WorkspaceFixture::SetUp());
    auto imported = ImportCsvText("providers", "hcp_id,churned\n1,0\n2,1\n");
    ASSERT_TRUE(imported.ok()) << imported.status();
    training_id_ = test::InsertTraining(*workspace_, actor_, imported->version.id);
    ASSERT_GT(training_id_, 0);
  }

  // Stores a manifest object and returns its hash.
  std::string PutManifest(const nlohmann::json& manifest) {
    auto sha256 = workspace_->objects().Put(manifest.dump());
    EXPECT_TRUE(sha256.ok()) << sha256.status();
    return sha256.ok() ? *sha256 : "";
  }

  NewVersion Version(const std::string& manifest_sha256, int trial = 1) {
    NewVersion version;
    version.manifest_sha256 = manifest_sha256;
    version.training_id = training_id_;
    version.trial_number = trial;
    version.algorithm = "xgboost";
    version.task_type = "binary";
    version.metric = "auc";
    version.cv_score = 0.81;
    version.holdout_score = 0.79;
    return version;
  }

  absl::StatusOr<RegisterResult> Register(const std::string& project, const std::string& name,
                                          const NewVersion& version) {
    return test::RegisterSavedModel(*workspace_, actor_, clock_.NowMicros(), project, name,
                                    version);
  }

  int64_t training_id_ = 0;
};

TEST(ModelRef, ParsesLatestAndNumberedForms) {
  auto latest = ParseModelRef("CHURN/churn");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->project, "CHURN");
  EXPECT_EQ(latest->name, "churn");
  EXPECT_EQ(latest->version, 0);
  EXPECT_EQ(latest->ToString(), "CHURN/churn");

  auto numbered = ParseModelRef("CHURN_2/churn.hcp-v2@v12");
  ASSERT_TRUE(numbered.ok()) << numbered.status();
  EXPECT_EQ(numbered->project, "CHURN_2");
  EXPECT_EQ(numbered->name, "churn.hcp-v2");
  EXPECT_EQ(numbered->version, 12);
  EXPECT_EQ(numbered->ToString(), "CHURN_2/churn.hcp-v2@v12");
}

TEST(ModelRef, RejectsMalformedTextShowingTheAcceptedForms) {
  for (const char* text : {"",
                           "churn",
                           "CHURN",
                           "CHURN/",
                           "/churn",
                           "churn/churn",
                           "CHURN/churn@",
                           "CHURN/churn@v",
                           "CHURN/churn@v0",
                           "CHURN/churn@v-1",
                           "CHURN/churn@3",
                           "CHURN/churn@vx",
                           "CHURN/churn@v+2",
                           "CHURN/churn@v 2",
                           "CHURN/churn@v2 ",
                           "CHURN/churn@v1@v2",
                           "CHURN/churn@sha256:abcd",
                           "CHURN/bad name",
                           "CHURN/a/b",
                           "CHURN/1churn"}) {
    SCOPED_TRACE(text);
    auto ref = ParseModelRef(text);
    ASSERT_FALSE(ref.ok()) << "parsed as " << ref->ToString();
    EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(ref.status()), HasSubstr("PROJECT/MODEL or PROJECT/MODEL@vN"));
    EXPECT_THAT(Message(ref.status()), HasSubstr(absl::StrCat("\"", text, "\"")));
  }
}

TEST(ModelRef, BadNameSaysWhatIsWrongWithIt) {
  auto ref = ParseModelRef("CHURN/bad name@v1");
  ASSERT_FALSE(ref.ok());
  EXPECT_THAT(Message(ref.status()), HasSubstr("saved model name \"bad name\""));
  EXPECT_THAT(Message(ref.status()), HasSubstr("starting with a letter"));
}

TEST(ModelRef, ValidateModelName) {
  EXPECT_TRUE(ValidateModelName("churn").ok());
  EXPECT_TRUE(ValidateModelName("Churn_v2.hcp-1").ok());
  for (const char* name : {"", "1churn", "churn model", "churn/v2", "_churn"}) {
    SCOPED_TRACE(name);
    absl::Status status = ValidateModelName(name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(status), HasSubstr(absl::StrCat("saved model name \"", name, "\"")));
  }
  EXPECT_FALSE(ValidateModelName(std::string(129, 'a')).ok());
  EXPECT_TRUE(ValidateModelName(std::string(128, 'a')).ok());
}

TEST_F(ModelRegistryTest, FirstVersionCreatesTheModelAndIsAudited) {
  const std::string sha256 = PutManifest({{"format", "assay.saved_model/1"}, {"seed", 1}});
  auto result = Register("CHURN", "churn", Version(sha256, 3));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  const SavedModelVersion& version = result->version;
  EXPECT_GT(version.id, 0);
  EXPECT_EQ(version.project, "CHURN");
  EXPECT_EQ(version.name, "churn");
  EXPECT_EQ(version.version, 1);
  EXPECT_EQ(version.Ref(), "CHURN/churn@v1");
  EXPECT_EQ(version.sha256, sha256);
  EXPECT_EQ(version.state, "trained");
  EXPECT_EQ(version.training_id, training_id_);
  EXPECT_EQ(version.trial_number, 3);
  EXPECT_EQ(version.algorithm, "xgboost");
  EXPECT_EQ(version.task_type, "binary");
  EXPECT_EQ(version.metric, "auc");
  EXPECT_DOUBLE_EQ(version.cv_score, 0.81);
  EXPECT_DOUBLE_EQ(version.holdout_score, 0.79);
  EXPECT_EQ(version.created_by, "alice");
  EXPECT_EQ(version.created_at_micros, kNow);

  const nlohmann::json json = version.ToJson();
  EXPECT_EQ(json["ref"], "CHURN/churn@v1");
  EXPECT_EQ(json["trial"], 3);
  EXPECT_EQ(json["sha256"], sha256);

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries), ElementsAre("model.create", "model.version.create"));
  EXPECT_EQ(entries[0].event.object_type, "saved_model");
  EXPECT_EQ(entries[0].event.project_key, "CHURN");
  EXPECT_EQ(entries[0].event.actor, "alice");
  const audit::AuditEvent& created = entries[1].event;
  EXPECT_EQ(created.object_type, "saved_model");
  EXPECT_EQ(created.object_version, "v1");
  EXPECT_EQ(created.before_hash, "");
  EXPECT_EQ(created.after_hash, sha256);
  EXPECT_EQ(created.details["training_id"], training_id_);
  EXPECT_EQ(created.details["trial"], 3);
  EXPECT_EQ(created.details["algorithm"], "xgboost");
  EXPECT_EQ(created.details["state"], "trained");

  auto report = workspace_->VerifyAudit();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(ModelRegistryTest, DistinctManifestBecomesTheNextVersion) {
  const std::string first = PutManifest({{"seed", 1}});
  const std::string second = PutManifest({{"seed", 2}});
  ASSERT_TRUE(Register("CHURN", "churn", Version(first)).ok());
  clock_.Advance(1'000'000);
  auto result = Register("CHURN", "churn", Version(second, 2));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  EXPECT_EQ(result->version.version, 2);
  EXPECT_EQ(result->version.sha256, second);
  EXPECT_EQ(result->version.created_at_micros, kNow + 1'000'000);

  const auto entries = AuditFor("CHURN/churn");
  ASSERT_THAT(Actions(entries),
              ElementsAre("model.create", "model.version.create", "model.version.create"));
  EXPECT_EQ(entries[2].event.object_version, "v2");
  EXPECT_EQ(entries[2].event.before_hash, first);
  EXPECT_EQ(entries[2].event.after_hash, second);

  ModelRegistry registry(*workspace_);
  auto versions = registry.Versions("CHURN", "churn");
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 1);
  EXPECT_EQ((*versions)[0].sha256, first);
  EXPECT_EQ((*versions)[1].version, 2);
  EXPECT_EQ((*versions)[1].sha256, second);
  EXPECT_EQ((*versions)[1].trial_number, 2);

  auto report = workspace_->VerifyAudit();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(ModelRegistryTest, IdenticalManifestIsNotANewVersion) {
  const std::string first = PutManifest({{"seed", 1}});
  const std::string second = PutManifest({{"seed", 2}});
  auto v1 = Register("CHURN", "churn", Version(first));
  ASSERT_TRUE(v1.ok()) << v1.status();
  const size_t audited = AuditFor("CHURN/churn").size();

  auto again = Register("CHURN", "churn", Version(first));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version.version, 1);
  EXPECT_EQ(again->version.id, v1->version.id);
  EXPECT_EQ(AuditFor("CHURN/churn").size(), audited);

  // A manifest that was an older version stays that version, even after a newer one.
  ASSERT_TRUE(Register("CHURN", "churn", Version(second)).ok());
  auto old = Register("CHURN", "churn", Version(first));
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE(old->created);
  EXPECT_EQ(old->version.version, 1);

  ModelRegistry registry(*workspace_);
  auto versions = registry.Versions("CHURN", "churn");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 2u);
}

TEST_F(ModelRegistryTest, SameManifestUnderAnotherNameIsThatModelsFirstVersion) {
  const std::string sha256 = PutManifest({{"seed", 1}});
  ASSERT_TRUE(Register("CHURN", "churn", Version(sha256)).ok());
  auto other = Register("CHURN", "churn-candidate", Version(sha256));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
  EXPECT_EQ(other->version.version, 1);
  EXPECT_EQ(other->version.name, "churn-candidate");
}

TEST_F(ModelRegistryTest, MissingManifestObjectIsFailedPrecondition) {
  const std::string absent = common::Sha256Hex("never stored");
  auto result = Register("CHURN", "churn", Version(absent));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(result.status()), HasSubstr(absent));
  // Nothing was written: no model, no audit entry.
  EXPECT_EQ(ModelRegistry(*workspace_).Versions("CHURN", "churn").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(AuditFor("CHURN/churn").empty());
}

TEST_F(ModelRegistryTest, BadNameIsInvalidArgument) {
  const std::string sha256 = PutManifest({{"seed", 1}});
  auto result = Register("CHURN", "churn model", Version(sha256));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(result.status()), HasSubstr("\"churn model\""));
}

TEST_F(ModelRegistryTest, ResolveLatestAndNumberedVersions) {
  const std::string first = PutManifest({{"seed", 1}});
  const std::string second = PutManifest({{"seed", 2}});
  ASSERT_TRUE(Register("CHURN", "churn", Version(first)).ok());
  ASSERT_TRUE(Register("CHURN", "churn", Version(second)).ok());
  ModelRegistry registry(*workspace_);

  auto latest = registry.Resolve(*ParseModelRef("CHURN/churn"));
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->sha256, second);

  auto v1 = registry.Resolve(*ParseModelRef("CHURN/churn@v1"));
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->sha256, first);

  auto v7 = registry.Resolve(*ParseModelRef("CHURN/churn@v7"));
  EXPECT_EQ(v7.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(v7.status()), HasSubstr("CHURN/churn has no version v7 (latest is v2)"));
}

TEST_F(ModelRegistryTest, NotFoundNamesTheModelsThatExist) {
  ModelRegistry registry(*workspace_);
  auto none = registry.Resolve({"CHURN", "churn", 0});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(none.status()), HasSubstr("no saved model \"churn\""));
  EXPECT_THAT(Message(none.status()), HasSubstr("none yet"));

  ASSERT_TRUE(Register("CHURN", "zeta", Version(PutManifest({{"seed", 1}}))).ok());
  ASSERT_TRUE(Register("CHURN", "alpha", Version(PutManifest({{"seed", 2}}))).ok());
  auto missing = registry.Versions("CHURN", "churn");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()),
              HasSubstr("project CHURN has no saved model \"churn\" (saved models: alpha, zeta)"));
}

TEST_F(ModelRegistryTest, ListShowsEachModelWithItsLatestVersionByName) {
  ModelRegistry registry(*workspace_);
  auto empty = registry.List("CHURN");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());

  ASSERT_TRUE(Register("CHURN", "zeta", Version(PutManifest({{"seed", 1}}))).ok());
  ASSERT_TRUE(Register("CHURN", "alpha", Version(PutManifest({{"seed", 2}}))).ok());
  const std::string alpha_v2 = PutManifest({{"seed", 3}});
  ASSERT_TRUE(Register("CHURN", "alpha", Version(alpha_v2)).ok());

  auto models = registry.List("CHURN");
  ASSERT_TRUE(models.ok()) << models.status();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "alpha");
  EXPECT_EQ((*models)[0].project, "CHURN");
  EXPECT_EQ((*models)[0].versions, 2);
  EXPECT_EQ((*models)[0].latest.version, 2);
  EXPECT_EQ((*models)[0].latest.sha256, alpha_v2);
  EXPECT_EQ((*models)[1].name, "zeta");
  EXPECT_EQ((*models)[1].versions, 1);
}

TEST_F(ModelRegistryTest, LoadManifestReturnsTheStoredJson) {
  const nlohmann::json manifest = {{"format", "assay.saved_model/1"},
                                   {"model", {{"sha256", common::Sha256Hex("bytes")}}}};
  auto result = Register("CHURN", "churn", Version(PutManifest(manifest)));
  ASSERT_TRUE(result.ok()) << result.status();
  auto loaded = ModelRegistry(*workspace_).LoadManifest(result->version);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, manifest);
}

TEST_F(ModelRegistryTest, LoadManifestDetectsACorruptObject) {
  auto result = Register("CHURN", "churn", Version(PutManifest({{"seed", 12345}})));
  ASSERT_TRUE(result.ok()) << result.status();
  const fs::path object = workspace_->objects().PathFor(result->version.sha256);
  ASSERT_TRUE(fs::exists(object));
  fs::permissions(object, fs::perms::owner_write, fs::perm_options::add);
  {
    // Still valid JSON, so only the hash check can notice.
    std::fstream file(object, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-3, std::ios::end);
    file.put('9');
  }
  auto loaded = ModelRegistry(*workspace_).LoadManifest(result->version);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(ModelRegistryTest, LoadManifestRefusesAnObjectThatIsNotAJsonObject) {
  auto sha256 = workspace_->objects().Put("[1, 2, 3]");
  ASSERT_TRUE(sha256.ok());
  auto result = Register("CHURN", "churn", Version(*sha256));
  ASSERT_TRUE(result.ok()) << result.status();
  auto loaded = ModelRegistry(*workspace_).LoadManifest(result->version);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(loaded.status()), HasSubstr("CHURN/churn@v1"));
}

TEST_F(ModelRegistryTest, UnknownProject) {
  ModelRegistry registry(*workspace_);
  EXPECT_EQ(registry.List("NOPE").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.Versions("NOPE", "churn").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.Resolve({"NOPE", "churn", 1}).status().code(), absl::StatusCode::kNotFound);

  auto result = Register("NOPE", "churn", Version(PutManifest({{"seed", 1}})));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(result.status()), HasSubstr("project NOPE does not exist"));
  EXPECT_THAT(Message(result.status()), HasSubstr("assay project create NOPE"));
  EXPECT_TRUE(AuditFor("NOPE/churn").empty());
}

TEST_F(ModelRegistryTest, UnknownTrainingIsRefusedAndLeavesNoModel) {
  NewVersion version = Version(PutManifest({{"seed", 1}}));
  version.training_id = training_id_ + 100;
  auto result = Register("CHURN", "churn", version);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  // The model.create in the same transaction was rolled back with it.
  EXPECT_EQ(ModelRegistry(*workspace_).List("CHURN")->size(), 0u);
  EXPECT_TRUE(AuditFor("CHURN/churn").empty());
}

}  // namespace
}  // namespace assay::registry
