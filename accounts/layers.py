"""A shared Lambda layer version and the permissions that share it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from governance.layers import LayerPlan


class SharedLayer(pulumi.ComponentResource):
    """One layer version in its owner account, and one permission per principal.

    The component acts through the owner account's provider, inherited from the
    `AccountBaseline` it is created in. The version and its permissions are kept
    in AWS when Pulumi replaces or deletes them (`skip_destroy`), because functions
    pinned to a version keep using it.
    """

    def __init__(
        self, plan: LayerPlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-governance:layers:SharedLayer", plan.name, None, opts)
        self.layer_name = plan.name
        self.layer_version = aws.lambda_.LayerVersion(
            f"{plan.name}-version",
            layer_name=plan.layer_name,
            # The zip's path is relative to the project directory, where the Pulumi
            # CLI runs the program; Pulumi compares archives by their hash only.
            code=pulumi.FileArchive(plan.archive_path),
            source_code_hash=plan.source_code_hash,
            description=plan.description,
            license_info=plan.license_info,
            compatible_runtimes=list(plan.compatible_runtimes),
            compatible_architectures=list(plan.compatible_architectures),
            skip_destroy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        version_number = self.layer_version.version.apply(int)
        # NOTE: a permission Pulumi deletes stays in AWS, so removing an account
        # from sharedWith does not revoke it on versions already published, and
        # adding it back on the same version fails on the existing statement id.
        self.permissions = [
            aws.lambda_.LayerVersionPermission(
                f"{plan.name}-{permission.statement_id}",
                layer_name=self.layer_version.layer_arn,
                version_number=version_number,
                statement_id=permission.statement_id,
                action=permission.action,
                principal=permission.principal,
                organization_id=permission.organization_id,
                skip_destroy=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for permission in plan.permissions
        ]
        self.outputs: dict[str, pulumi.Input[object]] = {
            "arn": self.layer_version.arn,
            "layerArn": self.layer_version.layer_arn,
            "layerName": plan.layer_name,
            "version": version_number,
            "semanticVersion": plan.semantic_version,
            "region": plan.region,
        }
        self.register_outputs(self.outputs)
