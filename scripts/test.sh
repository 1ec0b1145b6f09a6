#!/usr/bin/env bash
# Builds the solution once and runs every test project (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build CurpStore.sln -c Release -warnaserror -nologo -v quiet
status=0
for project in tests/*/*.Tests.csproj; do
  # Failed tests are listed with their messages; passing ones stay quiet.
  dotnet test "$project" -c Release --no-build --nologo -v quiet --logger "console;verbosity=minimal" || status=1
done
exit $status
