#!/usr/bin/env python3
"""Writes the cloud audit log samples of this directory (docs/cloud-logs.md).

The records follow the providers' public record schemas (AWS CloudTrail record
contents; Azure Monitor diagnostic-settings schemas for the activity, sign-in and audit
logs; Microsoft Graph riskDetection; GCP LogEntry with an AuditLog payload; Okta System
Log LogEvent; Office 365 Management Activity API common schema; the shapes Sigma's
m365 alert rules read; Kubernetes audit.k8s.io/v1 Event; GitHub audit log entries; Bitbucket Data Center
audit events; OneLogin Events API). Values are invented. Each file has benign records, then attack
records that SigmaHQ rules are meant to catch, then damaged records (the tests in
crates/vigie/tests/it/hunt_cloud.rs assert which rules fire on which record).

Deterministic: `python3 gen_cloud_samples.py` rewrites the files identically.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "111122223333"
TENANT = "8d1f3a5e-2b4c-4e6f-9a1b-3c5d7e9f1a2b"


def t(i, base="2026-11-30T08:"):
    return f"{base}{i // 60 % 60:02d}:{i % 60:02d}Z"


def dumps(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# --- AWS CloudTrail -----------------------------------------------------------------

def ct_user(kind="AssumedRole", name="ops-automation", session="i-0a1b2c3d4e5f60718"):
    if kind == "IAMUser":
        return {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": name,
        }
    if kind == "Root":
        return {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEROOTKEY01",
        }
    if kind == "AWSService":
        return {"type": "AWSService", "invokedBy": name}
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLEID0001:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLESESSKEY01",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEROLEID0001",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                "accountId": ACCOUNT,
                "userName": name,
            },
            "attributes": {"creationDate": "2026-11-30T07:55:02Z", "mfaAuthenticated": "false"},
        },
    }


def ct(i, source, name, user=None, params=None, response=None, ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.amzn.2023", ip="203.0.113.24", region="eu-west-3", read_only=False, event_type="AwsApiCall", extra=None):
    rec = {
        "eventVersion": "1.09",
        "userIdentity": user or ct_user(),
        "eventTime": t(i),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": ua,
        "requestParameters": params,
        "responseElements": response,
        "requestID": f"7c0e2f4a-{i:04d}-4b1d-9e6f-0a2b4c6d8e1f",
        "eventID": f"5d3f1b7e-{i:04d}-4c2a-8b0d-1e3f5a7c9b2d",
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": source.replace(".amazonaws.com", f".{region}.amazonaws.com")},
    }
    if extra:
        rec.update(extra)
    return rec


def cloudtrail():
    benign = [
        ct(1, "ec2.amazonaws.com", "DescribeInstances", params={"instancesSet": {}, "filterSet": {}}, read_only=True),
        ct(2, "sts.amazonaws.com", "GetCallerIdentity", read_only=True),
        ct(3, "s3.amazonaws.com", "ListBuckets", read_only=True),
        ct(4, "ec2.amazonaws.com", "DescribeSecurityGroups", read_only=True, params={"securityGroupSet": {}, "filterSet": {}}),
        ct(5, "logs.amazonaws.com", "CreateLogStream", user=ct_user(name="lambda-exec", session="billing-export"), params={"logGroupName": "/aws/lambda/billing-export", "logStreamName": "2026/11/30/[$LATEST]0f1e2d3c"}),
        ct(6, "sts.amazonaws.com", "AssumeRole", user=ct_user("AWSService", "ec2.amazonaws.com"), ip="ec2.amazonaws.com", ua="ec2.amazonaws.com", event_type="AwsApiCall", params={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/ops-automation", "roleSessionName": "i-0a1b2c3d4e5f60718"}, response={"credentials": {"accessKeyId": "ASIAEXAMPLESESSKEY01", "expiration": "Nov 30, 2026, 2:00:00 PM", "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE"}}),
        ct(7, "kms.amazonaws.com", "Decrypt", user=ct_user(name="lambda-exec", session="billing-export"), read_only=True, params={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        ct(8, "ec2.amazonaws.com", "DescribeVolumes", read_only=True),
        ct(9, "cloudwatch.amazonaws.com", "PutMetricData", params={"namespace": "Telco/Core", "metricData": [{"metricName": "SessionsActive"}]}),
        ct(10, "rds.amazonaws.com", "DescribeDBInstances", read_only=True),
        ct(11, "iam.amazonaws.com", "ListRoles", user=ct_user("IAMUser", "alice.martin"), read_only=True, ua="console.amazonaws.com"),
        ct(12, "ec2.amazonaws.com", "RunInstances", params={"instancesSet": {"items": [{"imageId": "ami-0a1b2c3d4e5f60718", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.medium"}, response={"reservationId": "r-0123456789abcdef0"}),
        ct(13, "ssm.amazonaws.com", "GetParameter", read_only=True, params={"name": "/core/db/endpoint", "withDecryption": False}),
        ct(14, "lambda.amazonaws.com", "GetFunction", read_only=True, params={"functionName": "billing-export"}),
        ct(15, "cloudtrail.amazonaws.com", "LookupEvents", user=ct_user("IAMUser", "alice.martin"), read_only=True, ua="console.amazonaws.com"),
        ct(16, "ec2.amazonaws.com", "CreateTags", params={"resourcesSet": {"items": [{"resourceId": "i-0f1e2d3c4b5a69788"}]}, "tagSet": {"items": [{"key": "owner", "value": "noc"}]}}),
        ct(17, "elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", read_only=True),
        ct(18, "dynamodb.amazonaws.com", "DescribeTable", read_only=True, params={"tableName": "subscribers"}),
        ct(19, "ecr.amazonaws.com", "GetAuthorizationToken", read_only=True),
        ct(20, "signin.amazonaws.com", "ConsoleLogin", user=ct_user("IAMUser", "alice.martin"), ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Success"}, extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}}),
        ct(21, "s3.amazonaws.com", "GetBucketAcl", read_only=True, params={"bucketName": "telco-cdr-archive", "Host": "telco-cdr-archive.s3.eu-west-3.amazonaws.com", "acl": ""}),
        ct(22, "autoscaling.amazonaws.com", "DescribeAutoScalingGroups", read_only=True),
    ]
    attack = [
        ct(40, "cloudtrail.amazonaws.com", "StopLogging", user=ct_user("IAMUser", "svc-backup"), params={"name": f"arn:aws:cloudtrail:eu-west-3:{ACCOUNT}:trail/org-trail"}, ip="198.51.100.77"),
        ct(41, "signin.amazonaws.com", "ConsoleLogin", user=ct_user("IAMUser", "svc-backup"), ua="Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", ip="198.51.100.77", event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Success"}, extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "NO"}}),
        ct(42, "signin.amazonaws.com", "ConsoleLogin", user=ct_user("IAMUser", "alice.martin"), ua="Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", ip="198.51.100.77", event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Failure"}, extra={"errorMessage": "Failed authentication", "additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"}}),
        ct(43, "iam.amazonaws.com", "CreateAccessKey", user=ct_user("IAMUser", "svc-backup"), ua="S3 Browser 11.5.7 https://s3browser.com", ip="198.51.100.77", params={"userName": "svc-backup"}, response={"accessKey": {"userName": "svc-backup", "accessKeyId": "AKIAEXAMPLENEWKEY001", "status": "Active", "createDate": "Nov 30, 2026, 8:43:00 AM"}}),
        ct(44, "guardduty.amazonaws.com", "DeleteDetector", user=ct_user("IAMUser", "svc-backup"), ip="198.51.100.77", params={"detectorId": "12abc34d567e8fa901bc2d34e56789f0"}),
        ct(45, "ec2.amazonaws.com", "ModifyInstanceAttribute", user=ct_user("IAMUser", "svc-backup"), ip="198.51.100.77", params={"instanceId": "i-0f1e2d3c4b5a69788", "attribute": "userData", "userData": "<sensitiveDataRemoved>"}),
        ct(46, "iam.amazonaws.com", "GetAccountSummary", user=ct_user("Root"), ua="console.amazonaws.com", ip="198.51.100.77", read_only=True),
        ct(47, "ec2.amazonaws.com", "DeleteFlowLogs", user=ct_user("IAMUser", "svc-backup"), ip="198.51.100.77", params={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d4e5f60718", "tag": 1}}}),
        ct(48, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", user=ct_user("IAMUser", "svc-backup"), ip="198.51.100.77", params={"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
        ct(49, "ssm.amazonaws.com", "SendCommand", user=ct_user("IAMUser", "svc-backup"), ip="198.51.100.77", params={"documentName": "AWS-RunShellScript", "instanceIds": ["i-0f1e2d3c4b5a69788"], "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        ct(50, "s3.amazonaws.com", "ListObjects", user=ct_user("IAMUser", "svc-backup"), ua="TruffleHog", ip="198.51.100.77", read_only=True, params={"bucketName": "telco-cdr-archive"}),
    ]
    damaged = ["truncated record", 17, None]
    return {"Records": benign + attack + damaged}


# --- Azure (diagnostic settings) ----------------------------------------------------

def signin(i, upn, result="0", desc=None, app="Microsoft Teams", resource="Microsoft Teams Services", ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0", compliant=True, auth="multiFactorAuthentication", ca="success", ip="192.0.2.15", client="Browser", risk="none", category="SignInLogs"):
    code = int(result)
    return {
        "time": t(i, "2026-11-30T09:"),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": category,
        "tenantId": TENANT,
        "resultType": result,
        "resultSignature": "None",
        "resultDescription": desc or ("" if code == 0 else "Invalid username or password or Invalid on-premise username or password."),
        "durationMs": 0,
        "callerIpAddress": ip,
        "correlationId": f"0c9e8f7d-{i:04d}-4a3b-8c2d-1e0f9a8b7c6d",
        "identity": upn.split("@")[0].replace(".", " ").title(),
        "Level": 4,
        "location": "FR",
        "properties": {
            "id": f"6a5b4c3d-{i:04d}-4e2f-9a1b-0c9d8e7f6a5b",
            "createdDateTime": t(i, "2026-11-30T09:"),
            "userDisplayName": upn.split("@")[0].replace(".", " ").title(),
            "userPrincipalName": upn,
            "userId": f"2f3e4d5c-{i:04d}-4b6a-8c9d-0e1f2a3b4c5d",
            "appId": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "appDisplayName": app,
            "ipAddress": ip,
            "status": {"errorCode": code} if code == 0 else {"errorCode": code, "failureReason": desc or "Invalid username or password or Invalid on-premise username or password."},
            "clientAppUsed": client,
            "userAgent": ua,
            "deviceDetail": {"deviceId": "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d" if compliant else "", "displayName": "LT-NOC-042" if compliant else "", "operatingSystem": "Windows10", "browser": "Edge 131.0.0", "isCompliant": compliant, "isManaged": compliant, "trustType": "Azure AD joined" if compliant else ""},
            "location": {"city": "Paris", "state": "Paris", "countryOrRegion": "FR", "geoCoordinates": {"latitude": 48.86, "longitude": 2.35}},
            "correlationId": f"0c9e8f7d-{i:04d}-4a3b-8c2d-1e0f9a8b7c6d",
            "conditionalAccessStatus": ca,
            "isInteractive": category == "SignInLogs",
            "tokenIssuerType": "AzureAD",
            "authenticationRequirement": auth,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": risk,
            "resourceDisplayName": resource,
            "resourceId": "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
            "networkLocationDetails": [{"networkType": "namedNetwork", "networkNames": ["HQ Paris"]}],
        },
    }


USERS = ["alice.martin@telco.example", "bruno.leroy@telco.example", "chloe.nguyen@telco.example", "david.moreau@telco.example", "emma.dubois@telco.example"]
APPS = [("Microsoft Teams", "Microsoft Teams Services"), ("Office 365 Exchange Online", "Office 365 Exchange Online"), ("Azure Portal", "Windows Azure Service Management API"), ("Microsoft Office", "Microsoft Graph"), ("OneDrive SyncEngine", "Office 365 SharePoint Online")]


def azure_signin():
    benign = []
    for i in range(22):
        app, res = APPS[i % len(APPS)]
        kw = {}
        if i % 7 == 3:
            kw = {"result": "50126", "ca": "notApplied", "auth": "singleFactorAuthentication"}
        if i % 9 == 5:
            kw = {"result": "50140", "desc": "This occurred due to 'Keep me signed in' interrupt when the user was signing in.", "ca": "notApplied"}
        if i % 5 == 4:
            kw["category"] = "NonInteractiveUserSignInLogs"
        benign.append(signin(i + 1, USERS[i % len(USERS)], app=app, resource=res, **kw))
    bad_ip = "198.51.100.77"
    attack = [
        signin(40, "bruno.leroy@telco.example", result="50053", desc="Account is locked because user tried to sign in too many times with an incorrect user ID or password.", ip=bad_ip, ca="notApplied", auth="singleFactorAuthentication"),
        signin(41, "chloe.nguyen@telco.example", app="Azure CLI", resource="Microsoft Graph", ua="azurehound/v2.1.7", ip=bad_ip, client="Mobile Apps and Desktop clients"),
        signin(42, "olivier.petit@telco.example", result="50057", desc="User account is disabled. The account has been disabled by an administrator.", ip=bad_ip, ca="notApplied", auth="singleFactorAuthentication"),
        signin(43, "david.moreau@telco.example", result="53003", desc="Blocked by Conditional Access", ip=bad_ip, ca="failure"),
        signin(44, "emma.dubois@telco.example", app="Microsoft Authentication Broker", resource="Device Registration Service", ip=bad_ip, compliant=False, auth="singleFactorAuthentication", ca="success"),
    ]
    damaged = ['{"time":"2026-11-30T09:50:00Z","category":"SignInLogs","properties":{"userPrincipalName":"x@telco.example"', "[1,2,3]"]
    return benign, attack, damaged


def activity(i, op, status="Succeeded", caller="alice.martin@telco.example", rid=None, message=None, category="Administrative", ip="192.0.2.15"):
    sub = "/SUBSCRIPTIONS/5A4B3C2D-1E0F-4A9B-8C7D-6E5F4A3B2C1D"
    prov = op.rsplit("/", 1)[0]
    rid = rid or f"{sub}/RESOURCEGROUPS/RG-CORE-NET/PROVIDERS/{prov}/CORE-{i:02d}"
    return {
        "time": t(i, "2026-11-30T10:"),
        "resourceId": rid,
        "operationName": op,
        "category": category,
        "resultType": status,
        "resultSignature": "Succeeded.OK" if status == "Succeeded" else status,
        "durationMs": "1204",
        "callerIpAddress": ip,
        "correlationId": f"3e2d1c0b-{i:04d}-4f9e-8d7c-6b5a4f3e2d1c",
        "identity": {
            "authorization": {"scope": rid, "action": op.title(), "evidence": {"role": "Contributor", "roleAssignmentScope": sub, "principalType": "User"}},
            "claims": {"name": caller.split("@")[0], "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller, "ipaddr": ip},
        },
        "level": "Information",
        "location": "global",
        "properties": {"statusCode": "OK" if status == "Succeeded" else "Created", "serviceRequestId": None, "eventCategory": category, "entity": rid, "message": message or op.title(), "hierarchy": f"{TENANT}/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"},
    }


def azure_activity():
    ops = [
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/DEALLOCATE/ACTION",
        "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE",
        "MICROSOFT.NETWORK/NETWORKINTERFACES/WRITE",
        "MICROSOFT.RESOURCES/TAGS/WRITE",
        "MICROSOFT.WEB/SITES/RESTART/ACTION",
        "MICROSOFT.SQL/SERVERS/DATABASES/WRITE",
        "MICROSOFT.COMPUTE/DISKS/WRITE",
        "MICROSOFT.NETWORK/PUBLICIPADDRESSES/READ",
        "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE",
    ]
    benign = [activity(i + 1, ops[i % len(ops)]) for i in range(20)]
    benign.append(activity(21, "MICROSOFT.AUTHORIZATION/POLICIES/AUDITIFNOTEXISTS/ACTION", category="Policy", caller="policy-engine"))
    benign.append(activity(22, "MICROSOFT.SECURITY/LOCATIONS/ALERTS/ACTIVATE/ACTION", category="Security", caller="Microsoft Defender for Cloud"))
    bad = "198.51.100.77"
    attack = [
        activity(40, "MICROSOFT.NETWORK/AZUREFIREWALLS/DELETE", ip=bad, caller="svc-deploy@telco.example"),
        activity(41, "MICROSOFT.KEYVAULT/VAULTS/SECRETS/WRITE", ip=bad, caller="svc-deploy@telco.example"),
        activity(42, "MICROSOFT.NETWORK/DNSZONES/A/WRITE", ip=bad, caller="svc-deploy@telco.example"),
        activity(43, "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", ip=bad, caller="svc-deploy@telco.example", message="Microsoft.Authorization/roleAssignments/write"),
        activity(44, "MICROSOFT.KUBERNETES/CONNECTEDCLUSTERS/SECRETS/DELETE", ip=bad, caller="svc-deploy@telco.example"),
    ]
    damaged = ['{"time":"2026-11-30T10:50:00Z","category":"Administrative",', '"just a string"']
    return benign, attack, damaged


def audit(i, activity_name, category="UserManagement", result="success", service="Core Directory", initiator="alice.martin@telco.example", targets=None, op_type="Update"):
    return {
        "time": t(i, "2026-11-30T11:"),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "operationName": activity_name,
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "tenantId": TENANT,
        "resultType": "Success" if result == "success" else "Failure",
        "resultSignature": "None",
        "resultDescription": "",
        "durationMs": 0,
        "callerIpAddress": "192.0.2.15",
        "correlationId": f"9f8e7d6c-{i:04d}-4b5a-9c8d-7e6f5a4b3c2d",
        "Level": 4,
        "properties": {
            "id": f"Directory_{i:04d}_{activity_name.replace(' ', '')[:12]}",
            "category": category,
            "correlationId": f"9f8e7d6c-{i:04d}-4b5a-9c8d-7e6f5a4b3c2d",
            "result": result,
            "resultReason": "",
            "activityDisplayName": activity_name,
            "activityDateTime": t(i, "2026-11-30T11:"),
            "loggedByService": service,
            "operationType": op_type,
            "initiatedBy": {"user": {"id": f"2f3e4d5c-{i:04d}-4b6a-8c9d-0e1f2a3b4c5d", "displayName": None, "userPrincipalName": initiator, "ipAddress": "192.0.2.15"}},
            "targetResources": targets or [{"id": f"7a6b5c4d-{i:04d}-4e3f-8a9b-0c1d2e3f4a5b", "displayName": None, "type": "User", "userPrincipalName": USERS[i % len(USERS)], "modifiedProperties": []}],
            "additionalDetails": [{"key": "UserAgent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}],
        },
    }


def azure_audit():
    names = [
        ("Update user", "UserManagement", "Core Directory"),
        ("Add member to group", "GroupManagement", "Core Directory"),
        ("Update group", "GroupManagement", "Core Directory"),
        ("Change user license", "UserManagement", "Core Directory"),
        ("Update device", "Device", "Core Directory"),
        ("Reset password (self-service)", "UserManagement", "Self-service Password Management"),
        ("Update application", "ApplicationManagement", "Core Directory"),
        ("Add app role assignment grant to user", "ApplicationManagement", "Core Directory"),
        ("Update StsRefreshTokenValidFrom Timestamp", "UserManagement", "Core Directory"),
        ("Add registered owner to device", "Device", "Core Directory"),
        ("Update conditional access policy", "Policy", "Conditional Access"),
    ]
    benign = [audit(i + 1, *names[i % len(names)]) for i in range(22)]
    attacker = "svc-deploy@telco.example"
    attack = [
        audit(40, "Add user", initiator=attacker, op_type="Add"),
        audit(41, "Add owner to application", category="ApplicationManagement", initiator=attacker, op_type="Add",
              targets=[{"id": "4d3c2b1a-0f9e-4d8c-7b6a-5f4e3d2c1b0a", "displayName": "billing-export", "type": "Application", "modifiedProperties": []}]),
        audit(42, "Disable Strong Authentication", initiator=attacker),
        audit(43, "Delete application", category="ApplicationManagement", initiator=attacker, op_type="Delete",
              targets=[{"id": "4d3c2b1a-0f9e-4d8c-7b6a-5f4e3d2c1b0a", "displayName": "billing-export", "type": "Application", "modifiedProperties": []}]),
        audit(44, "Add service principal", category="ApplicationManagement", initiator=attacker, op_type="Add",
              targets=[{"id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "displayName": "sync-helper", "type": "ServicePrincipal", "modifiedProperties": []}]),
    ]
    damaged = ['{"time":"2026-11-30T11:50:00Z","category":"AuditLogs","properties":{"activityDisplayName":"Add user"}} trailing', "null"]
    return benign, attack, damaged


def risk(i, event_type, level="medium", upn="bruno.leroy@telco.example"):
    return {
        "id": f"1a2b3c4d5e6f7a8b9c0d{i:04d}",
        "requestId": f"0e1f2a3b-{i:04d}-4c5d-8e9f-0a1b2c3d4e5f",
        "correlationId": f"9e8d7c6b-{i:04d}-4a5f-8e7d-6c5b4a3f2e1d",
        "riskEventType": event_type,
        "riskState": "atRisk",
        "riskLevel": level,
        "riskDetail": "none",
        "source": "IdentityProtection",
        "detectionTimingType": "realtime" if i % 2 else "offline",
        "activity": "signin",
        "tokenIssuerType": "AzureAD",
        "ipAddress": "198.51.100.77",
        "location": {"city": "Frankfurt", "state": "Hesse", "countryOrRegion": "DE"},
        "activityDateTime": t(i, "2026-11-30T12:"),
        "detectedDateTime": t(i + 1, "2026-11-30T12:"),
        "lastUpdatedDateTime": t(i + 2, "2026-11-30T12:"),
        "userId": f"2f3e4d5c-{i:04d}-4b6a-8c9d-0e1f2a3b4c5d",
        "userDisplayName": upn.split("@")[0].replace(".", " ").title(),
        "userPrincipalName": upn,
        "additionalInfo": "[{\"Key\":\"userAgent\",\"Value\":\"Mozilla/5.0\"}]",
    }


# --- GCP -------------------------------------------------------------------------------

def gcp(i, service, method, resource_type="gce_instance", principal="ops-automation@telco-core.iam.gserviceaccount.com", log="activity", permission=None, granted=True, resource_name=None):
    proj = "telco-core"
    return {
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {},
            "authenticationInfo": {"principalEmail": principal},
            "requestMetadata": {"callerIp": "203.0.113.24", "callerSuppliedUserAgent": "google-cloud-sdk gcloud/502.0.0 command/gcloud.compute.instances.list,gzip(gfe)", "requestAttributes": {"time": t(i, "2026-11-30T13:"), "auth": {}}, "destinationAttributes": {}},
            "serviceName": service,
            "methodName": method,
            "authorizationInfo": [{"resource": resource_name or f"projects/{proj}", "permission": permission or method, "granted": granted, "resourceAttributes": {}}],
            "resourceName": resource_name or f"projects/{proj}",
            "request": {"@type": "type.googleapis.com/" + method},
        },
        "insertId": f"-abc{i:04d}e1fd2c3",
        "resource": {"type": resource_type, "labels": {"project_id": proj, "zone": "europe-west9-a"}},
        "timestamp": t(i, "2026-11-30T13:"),
        "severity": "NOTICE",
        "logName": f"projects/{proj}/logs/cloudaudit.googleapis.com%2F{log}",
        "operation": {"id": f"operation-{i:04d}", "producer": service, "first": True, "last": True},
        "receiveTimestamp": t(i + 1, "2026-11-30T13:"),
    }


def gcp_audit():
    methods = [
        ("compute.googleapis.com", "v1.compute.instances.list", "gce_instance", "data_access"),
        ("compute.googleapis.com", "v1.compute.instances.start", "gce_instance", "activity"),
        ("storage.googleapis.com", "storage.objects.get", "gcs_bucket", "data_access"),
        ("storage.googleapis.com", "storage.objects.create", "gcs_bucket", "data_access"),
        ("iam.googleapis.com", "google.iam.admin.v1.ListServiceAccounts", "service_account", "data_access"),
        ("container.googleapis.com", "io.k8s.core.v1.pods.list", "k8s_cluster", "data_access"),
        ("cloudresourcemanager.googleapis.com", "GetIamPolicy", "project", "data_access"),
        ("logging.googleapis.com", "google.logging.v2.LoggingServiceV2.ListLogEntries", "project", "data_access"),
        ("bigquery.googleapis.com", "google.cloud.bigquery.v2.JobService.InsertJob", "bigquery_project", "data_access"),
        ("compute.googleapis.com", "v1.compute.disks.createSnapshot", "gce_disk", "activity"),
        ("cloudsql.googleapis.com", "cloudsql.instances.get", "cloudsql_database", "data_access"),
    ]
    benign = [gcp(i + 1, *methods[i % len(methods)]) for i in range(22)]
    bad = "attacker@gmail.com"
    attack = [
        gcp(40, "storage.googleapis.com", "storage.buckets.delete", "gcs_bucket", bad, resource_name="projects/_/buckets/telco-cdr-archive"),
        gcp(41, "compute.googleapis.com", "v1.compute.firewalls.delete", "gce_firewall_rule", bad),
        gcp(42, "iam.googleapis.com", "google.iam.admin.v1.DeleteServiceAccount", "service_account", bad),
        gcp(43, "k8s.io", "io.k8s.core.v1.secrets.delete", "k8s_cluster", bad),
        gcp(44, "cloudsql.googleapis.com", "cloudsql.instances.delete", "cloudsql_database", bad),
    ]
    # Google Workspace admin audit as Cloud Logging exports it.
    ws = gcp(45, "admin.googleapis.com", "google.admin.AdminService.changeApplicationSetting", "audited_resource", "admin@telco.example")
    ws["protoPayload"]["metadata"] = {"@type": "type.googleapis.com/ccc_hosted_reporting.ActivityProto", "event": [{"eventType": "APPLICATION_SETTINGS", "eventName": "CHANGE_APPLICATION_SETTING", "parameter": [{"name": "SETTING_NAME", "value": "Security"}]}]}
    attack.append(ws)
    damaged = ['{"protoPayload":{"methodName":"storage.buckets.delete"', "42"]
    return benign, attack, damaged


# --- Okta --------------------------------------------------------------------------------

def okta(i, event_type, display, result="SUCCESS", actor="alice.martin@telco.example", legacy=None, reason=None, is_proxy=False, target=None, request_uri="/api/v1/authn", ip="192.0.2.15"):
    return {
        "actor": {"id": f"00u1ab2cd3EF4gh5i{i:03d}", "type": "User", "alternateId": actor, "displayName": actor.split("@")[0].replace(".", " ").title(), "detailEntry": None},
        "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", "os": "Windows 10", "browser": "CHROME"}, "zone": "null", "device": "Computer", "id": None, "ipAddress": ip, "geographicalContext": {"city": "Paris", "state": "Ile-de-France", "country": "France", "postalCode": "75001", "geolocation": {"lat": 48.86, "lon": 2.35}}},
        "authenticationContext": {"authenticationProvider": None, "credentialProvider": None, "credentialType": None, "issuer": None, "interface": None, "authenticationStep": 0, "externalSessionId": f"102abcDEF{i:04d}"},
        "displayMessage": display,
        "eventType": event_type,
        "outcome": {"result": result, "reason": reason},
        "published": t(i, "2026-11-30T14:").replace("Z", ".000Z"),
        "securityContext": {"asNumber": 3215, "asOrg": "orange s.a.", "isp": "orange s.a.", "domain": "orange.fr", "isProxy": is_proxy},
        "severity": "INFO" if result == "SUCCESS" else "WARN",
        "debugContext": {"debugData": {"requestId": f"Y2l{i:04d}AbCdEf", "requestUri": request_uri, "url": request_uri + "?"}},
        "legacyEventType": legacy,
        "transaction": {"type": "WEB", "id": f"Y2l{i:04d}AbCdEf", "detail": {}},
        "uuid": f"f1e2d3c4-{i:04d}-11ef-8a9b-0c1d2e3f4a5b",
        "version": "0",
        "request": {"ipChain": [{"ip": ip, "geographicalContext": {"city": "Paris", "country": "France"}, "version": "V4", "source": None}]},
        "target": target or [],
    }


def okta_log():
    kinds = [
        ("user.session.start", "User login to Okta", "core.user_auth.login_success"),
        ("user.authentication.sso", "User single sign on to app", "app.auth.sso"),
        ("user.authentication.auth_via_mfa", "Authentication of user via MFA", "core.user.factor.attempt_success"),
        ("policy.evaluate_sign_on", "Evaluation of sign-on policy", None),
        ("user.session.end", "User logout from Okta", "core.user_auth.logout_success"),
        ("app.oauth2.as.token.grant.access_token", "OAuth2 access token is granted", None),
        ("user.authentication.verify", "Verify user identity", None),
        ("system.org.rate_limit.warning", "Rate limit warning", None),
    ]
    users = ["alice.martin@telco.example", "bruno.leroy@telco.example", "chloe.nguyen@telco.example", "david.moreau@telco.example"]
    benign = [okta(i + 1, kinds[i % len(kinds)][0], kinds[i % len(kinds)][1], actor=users[i % len(users)], legacy=kinds[i % len(kinds)][2]) for i in range(22)]
    bad = "198.51.100.77"
    attack = [
        okta(40, "system.api_token.create", "Create API token", actor="svc-sync@telco.example", ip=bad,
             target=[{"id": "00T1ab2cd3EF4gh5i6j7", "type": "Token", "alternateId": "unknown", "displayName": "sync-token", "detailEntry": None}]),
        okta(41, "user.mfa.factor.deactivate", "Reset factor for user", actor="svc-sync@telco.example", ip=bad),
        okta(42, "user.session.start", "User login to Okta", actor="bruno.leroy@telco.example", is_proxy=True, ip=bad, legacy="core.user_auth.login_success"),
        okta(43, "policy.lifecycle.update", "Update policy", actor="svc-sync@telco.example", ip=bad),
        okta(44, "user.account.lock", "Max sign in attempts exceeded", result="FAILURE", actor="chloe.nguyen@telco.example", ip=bad, legacy="core.user_auth.account_locked"),
        okta(45, "user.account.privilege.grant", "Grant user privilege", actor="svc-sync@telco.example", ip=bad),
    ]
    damaged = ['{"eventType":"user.session.start","actor":{"id":"00u"}, "uuid":', "true"]
    return benign, attack, damaged


# --- Microsoft 365 --------------------------------------------------------------------

def m365(i, workload, operation, record_type, user="alice.martin@telco.example", extra=None, result="Succeeded"):
    rec = {
        "CreationTime": t(i, "2026-11-30T15:").rstrip("Z"),
        "Id": f"4c3b2a19-{i:04d}-4e8f-9d0c-1b2a3f4e5d6c",
        "Operation": operation,
        "OrganizationId": TENANT,
        "RecordType": record_type,
        "ResultStatus": result,
        "UserKey": f"10032001{i:08X}",
        "UserType": 0,
        "Version": 1,
        "Workload": workload,
        "ClientIP": "192.0.2.15",
        "ObjectId": "https://telco.sharepoint.com/sites/noc/Shared Documents/runbook.docx" if workload == "SharePoint" else user,
        "UserId": user,
    }
    if extra:
        rec.update(extra)
    return rec


def m365_log():
    kinds = [
        ("Exchange", "MailItemsAccessed", 50),
        ("SharePoint", "FileAccessed", 6),
        ("OneDrive", "FileModified", 6),
        ("SharePoint", "FileDownloaded", 6),
        ("MicrosoftTeams", "MessageSent", 25),
        ("Exchange", "Send", 2),
        ("AzureActiveDirectory", "UserLoginFailed", 15),
        ("SharePoint", "PageViewed", 4),
    ]
    benign = []
    for i in range(20):
        w, op, rt = kinds[i % len(kinds)]
        extra = None
        if op == "UserLoginFailed":
            extra = {"ApplicationId": "00000002-0000-0ff1-ce00-000000000000", "LogonError": "InvalidUserNameOrPassword", "ExtendedProperties": [{"Name": "RequestType", "Value": "Login:login"}, {"Name": "ResultStatusDetail", "Value": "Success"}]}
        benign.append(m365(i + 1, w, op, rt, user=USERS[i % len(USERS)], extra=extra, result="Failed" if op == "UserLoginFailed" else "Succeeded"))
    benign.append(m365(21, "AzureActiveDirectory", "UserLoggedIn", 15, extra={"ApplicationId": "00000003-0000-0000-c000-000000000000", "RequestType": "OAuth2:Authorize"}, result="Success"))
    benign.append(m365(22, "ThreatIntelligence", "TIMailData", 28, extra={"Directionality": "Inbound", "DeliveryAction": "Blocked", "Subject": "Invoice overdue", "P1Sender": "billing@phish.example"}))
    attack = [
        m365(40, "AzureActiveDirectory", "UserLoggedIn", 15, user="bruno.leroy@telco.example", result="Success",
             extra={"ApplicationId": "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", "RequestType": "Cmsi:Cmsi", "ObjectId": "00000003-0000-0000-c000-000000000000"}),
        m365(41, "AzureActiveDirectory", "Disable Strong Authentication.", 8, user="svc-deploy@telco.example"),
        m365(42, "ThreatIntelligence", "TIMailData", 28, extra={"Directionality": "Inbound", "DeliveryAction": "Delivered", "Subject": "Payroll update", "P1Sender": "hr@phish.example"}),
        # Alerts as Sigma's m365 threat management / Exchange rules read them.
        {"eventSource": "SecurityComplianceCenter", "eventName": "Impossible travel activity", "status": "success", "eventTime": "2026-11-30T15:43:00Z", "userId": "bruno.leroy@telco.example", "severity": "Medium"},
        {"eventSource": "SecurityComplianceCenter", "eventName": "Suspicious inbox forwarding", "status": "success", "eventTime": "2026-11-30T15:44:00Z", "userId": "chloe.nguyen@telco.example", "severity": "High"},
        {"eventSource": "Exchange", "eventName": "Add-FederatedDomain", "status": "success", "eventTime": "2026-11-30T15:45:00Z", "userId": "svc-deploy@telco.example"},
    ]
    damaged = ['{"CreationTime":"2026-11-30T15:50:00","Operation":"FileAccessed","Workload":"SharePoint"', '{"Operation": "FileAccessed", "Workload": "SharePoint", "RecordType": 6,}']
    return benign, attack, damaged


# --- Kubernetes audit ------------------------------------------------------------------

def k8s(i, verb, resource, namespace="telco-core", name=None, api_group="", subresource=None, code=200, user="system:serviceaccount:telco-core:billing", uri=None, ua="kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"):
    ref = {"resource": resource, "namespace": namespace, "name": name or f"{resource[:-1]}-{i}", "apiGroup": api_group, "apiVersion": "v1"}
    if subresource:
        ref["subresource"] = subresource
    if namespace is None:
        del ref["namespace"]
    base = f"/apis/{api_group}/v1" if api_group else "/api/v1"
    path = uri or (f"{base}/namespaces/{namespace}/{resource}" if namespace else f"{base}/{resource}")
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"b7c8d9e0-{i:04d}-4f1a-9b2c-3d4e5f6a7b8c",
        "stage": "ResponseComplete",
        "requestURI": path,
        "verb": verb,
        "user": {"username": user, "uid": f"5f4e3d2c-{i:04d}-4b1a-8c9d-0e1f2a3b4c5d", "groups": ["system:serviceaccounts", "system:authenticated"]},
        "sourceIPs": ["10.20.0.14"],
        "userAgent": ua,
        "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": t(i, "2026-11-30T16:").replace("Z", ".000000Z"),
        "stageTimestamp": t(i, "2026-11-30T16:").replace("Z", ".004000Z"),
        "annotations": {"authorization.k8s.io/decision": "allow" if code < 400 else "forbid", "authorization.k8s.io/reason": ""},
    }


def k8s_audit():
    kinds = [
        ("get", "pods", "telco-core", ""),
        ("list", "configmaps", "telco-core", ""),
        ("watch", "endpoints", "telco-core", ""),
        ("get", "nodes", None, ""),
        ("update", "leases", "kube-system", "coordination.k8s.io"),
        ("create", "tokenreviews", None, "authentication.k8s.io"),
        ("get", "namespaces", None, ""),
        ("patch", "nodes", None, ""),
        ("create", "events", "telco-core", ""),
        ("list", "deployments", "telco-core", "apps"),
        ("get", "services", "telco-core", ""),
    ]
    benign = [k8s(i + 1, *kinds[i % len(kinds)][:3], api_group=kinds[i % len(kinds)][3]) for i in range(22)]
    bad = "system:serviceaccount:telco-core:default"
    attack = [
        k8s(40, "delete", "events", user=bad),
        k8s(41, "create", "pods", name="billing-7d9f", subresource="exec", user=bad, uri="/api/v1/namespaces/telco-core/pods/billing-7d9f/exec?command=%2Fbin%2Fsh&container=billing&stdin=true&tty=true"),
        k8s(42, "list", "secrets", user=bad),
        k8s(43, "create", "clusterrolebindings", namespace=None, api_group="rbac.authorization.k8s.io", user=bad),
        k8s(44, "get", "secrets", name="db-credentials", code=403, user="system:anonymous"),
        k8s(45, "create", "serviceaccounts", user=bad),
        k8s(46, "patch", "deployments", api_group="apps", name="billing", user=bad),
    ]
    damaged = ['{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get"', "\"Event\""]
    return benign, attack, damaged


# --- GitHub audit log ------------------------------------------------------------------

def gh(i, action, actor="alice-martin", repo="telco-core/billing", extra=None):
    ms = 1764518400000 + i * 60000
    rec = {
        "@timestamp": ms,
        "_document_id": f"Xk{i:04d}aBcDeFgHiJkLmNoPq",
        "action": action,
        "actor": actor,
        "actor_id": 1000 + i % 5,
        "actor_location": {"country_code": "FR"},
        "business": "telco-example",
        "created_at": ms,
        "operation_type": action.rsplit(".", 1)[-1] if "." in action else "modify",
        "org": "telco-core",
        "org_id": 4242,
        "repo": repo,
        "repository_public": False,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    }
    if extra:
        rec.update(extra)
    return rec


def github_audit():
    actions = ["repo.create", "pull_request.create", "pull_request.merge", "team.add_member", "workflows.completed_workflow_run", "repo.add_topic", "issue.create", "repo.update_default_branch", "protected_branch.create", "org.update_member_repository_creation_permission", "repo.access"]
    users = ["alice-martin", "bruno-leroy", "chloe-nguyen", "david-moreau"]
    benign = [gh(i + 1, actions[i % len(actions)], actor=users[i % len(users)]) for i in range(22)]
    bad = "svc-ci-bot"
    attack = [
        gh(40, "repo.destroy", actor=bad),
        gh(41, "org.add_member", actor=bad, extra={"user": "outsider-42"}),
        gh(42, "repo.create_actions_secret", actor=bad),
        gh(43, "secret_scanning_push_protection.bypass", actor=bad),
        gh(44, "dependabot_alerts.disable", actor=bad),
        gh(45, "repo.pages_public", actor=bad),
    ]
    damaged = ['{"action":"repo.create","actor":"x","org":', "[]"]
    return benign, attack, damaged


# --- Bitbucket Data Center audit log ------------------------------------------------------

def bb(i, category, action, user="alice.martin", level="BASE", objects=None):
    ms = 1764518400000 + i * 60000
    return {
        "affectedObjects": objects or [{"id": str(100 + i), "name": "billing", "type": "REPOSITORY", "uri": "/projects/CORE/repos/billing"}],
        "author": {"avatarUri": "", "id": str(10 + i % 4), "name": user, "type": "NORMAL", "uri": f"/users/{user}"},
        "auditType": {"action": action, "actionI18nKey": "bitbucket.audit." + action.lower().replace(" ", "."), "area": "END_USER_ACTIVITY" if level == "BASE" else "GLOBAL_CONFIG_AND_ADMINISTRATION", "category": category, "categoryI18nKey": "bitbucket.audit.category." + category.lower().replace(" ", ""), "level": level},
        "changedValues": [],
        "extraAttributes": [],
        "method": "Browser",
        "source": "192.0.2.15",
        "system": "https://git.telco.example",
        "timestamp": {"epochSecond": ms // 1000, "nano": 0},
        "type": {"action": action, "category": category},
    }


def bitbucket_audit():
    kinds = [
        ("Repositories", "Repository created"), ("Pull requests", "Pull request opened"),
        ("Pull requests", "Pull request merged"), ("Authentication", "User logged in"),
        ("Repositories", "Repository forked"), ("Projects", "Project created"),
        ("Repositories", "Branch created"), ("Permissions", "Repository permission granted"),
        ("Authentication", "User logged out"), ("Repositories", "Repository settings changed"),
        ("Users and groups", "User added to group"),
    ]
    users = ["alice.martin", "bruno.leroy", "chloe.nguyen", "david.moreau"]
    benign = [bb(i + 1, *kinds[i % len(kinds)], user=users[i % len(users)]) for i in range(22)]
    bad = "svc-mirror"
    attack = [
        bb(40, "Data pipeline", "Full data export triggered", user=bad, level="BASE"),
        bb(41, "Permissions", "Global permission granted", user=bad, level="BASE"),
        bb(42, "Auditing", "Audit log configuration updated", user=bad, level="BASE"),
        bb(43, "Authentication", "User login failed", user="bruno.leroy"),
        bb(44, "Users and groups", "User details exported", user=bad),
    ]
    damaged = ['{"auditType":{"action":"User login failed","category":"Authentication"},"author":', "12"]
    return benign, attack, damaged


# --- OneLogin events ------------------------------------------------------------------

def ol(i, type_id, notes=None, user="alice.martin@telco.example", user_id=None):
    return {
        "id": 900000 + i, "created_at": t(i, "2026-11-30T17:").replace("Z", ".000Z"), "account_id": 51234,
        "user_id": user_id or 7000 + i % 5, "user_name": user, "event_type_id": type_id, "notes": notes,
        "ipaddr": "192.0.2.15", "actor_user_id": user_id or 7000 + i % 5, "actor_user_name": user, "assuming_acting_user_id": None,
        "role_id": None, "role_name": None, "app_id": 330000 + i % 3, "app_name": "Salesforce" if i % 2 else "Slack", "group_id": None, "group_name": None,
        "otp_device_id": None, "otp_device_name": None, "policy_id": None, "policy_name": None, "actor_system": "", "custom_message": None,
        "directory_sync_run_id": None, "directory_id": None, "resolution": None, "client_id": None, "resource_type_id": None,
        "error_description": None, "proxy_ip": None, "risk_score": 0, "risk_reasons": None, "risk_cookie_id": None, "browser_fingerprint": None,
    }


def onelogin_events():
    # Event types of the OneLogin Events API: 5 login, 8 app access, 6 logout, 13 user
    # updated, 11 password changed...
    kinds = [5, 8, 6, 13, 8, 5, 11, 8]
    benign = [ol(i + 1, kinds[i % len(kinds)]) for i in range(22)]
    attack = [
        ol(40, 3, notes="Assumed user chloe.nguyen@telco.example", user="svc-helpdesk@telco.example"),
        ol(41, 532, notes="Locked via API", user="bruno.leroy@telco.example"),
    ]
    damaged = ['{"id":900050,"event_type_id":5,"account_id":', "false"]
    return benign, attack, damaged


def write_lines(name, benign, attack, damaged):
    lines = [dumps(r) for r in benign + attack] + list(damaged)
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    with open(os.path.join(HERE, "cloudtrail.json"), "w") as f:
        f.write(dumps(cloudtrail()) + "\n")
    write_lines("azure-signin.jsonl", *azure_signin())
    write_lines("azure-activity.jsonl", *azure_activity())
    write_lines("azure-audit.jsonl", *azure_audit())
    risks = ["unlikelyTravel", "unfamiliarFeatures", "anonymizedIPAddress"]
    # Risk records: every one is a detection by itself; the sample is the attack lane.
    write_lines("azure-risk.jsonl", [], [risk(40 + n, r, "high") for n, r in enumerate(risks)] + [risk(45, "staleSignInAlertIncident", "medium")], ['{"riskEventType":"leakedCredentials"'])
    write_lines("gcp-audit.jsonl", *gcp_audit())
    write_lines("okta.jsonl", *okta_log())
    write_lines("m365.jsonl", *m365_log())
    write_lines("kubernetes-audit.jsonl", *k8s_audit())
    write_lines("github-audit.jsonl", *github_audit())
    write_lines("bitbucket-audit.jsonl", *bitbucket_audit())
    write_lines("onelogin.jsonl", *onelogin_events())


if __name__ == "__main__":
    main()
