"""The CloudFormation we ship is valid: the hand-written stacks and the
template `chalice package` produces for AWS (which cannot be deployed here)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def test_hand_written_templates_pass_cfn_lint():
    result = subprocess.run([CFN_LINT, str(ROOT / "infra" / "platform.yaml"), str(ROOT / "infra" / "venue.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_packaged_chalice_app_passes_cfn_lint_and_reports_partial_batch_failures(tmp_path):
    from local.deploy import package

    template_path = package("dev", tmp_path / "out", role_arn="arn:aws:iam::123456789012:role/loket-dev-api")
    result = subprocess.run([CFN_LINT, str(template_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads(template_path.read_text())
    consumer = template["Resources"]["PaymentEvents"]["Properties"]
    assert consumer["Events"]["PaymentEventsSqsEventSource"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"]
    assert consumer["Role"].endswith("role/loket-dev-api")
    assert "loket-dev-payment-events" in json.dumps(consumer["Events"])
