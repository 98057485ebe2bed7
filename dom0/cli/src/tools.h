// Entry points of the qvm-* tools (one per tool, argv[0] is the tool's name).
#pragma once

namespace bulkhead::dom0::cli {

int qvm_ls(int argc, char** argv);
int qvm_create(int argc, char** argv);
int qvm_clone(int argc, char** argv);
int qvm_remove(int argc, char** argv);
int qvm_prefs(int argc, char** argv);
int qvm_tags(int argc, char** argv);
int qvm_features(int argc, char** argv);
int qvm_firewall(int argc, char** argv);
int qvm_check(int argc, char** argv);
int qvm_start(int argc, char** argv);
int qvm_shutdown(int argc, char** argv);
int qvm_kill(int argc, char** argv);
int qvm_pause(int argc, char** argv);
int qvm_unpause(int argc, char** argv);

} // namespace bulkhead::dom0::cli
