"""Escalations' models, one module per sub-domain; import them from here."""

from escalations.models.policies import (
    CLOCK_CHOICES,
    Calendar,
    Level,
    Policy,
    PolicyStatus,
    SeverityOverride,
    SlaTarget,
    Threshold,
)
from escalations.models.records import (
    ENGINEER_CATEGORIES,
    MANAGEMENT_CATEGORIES,
    Escalation,
    ReasonCategory,
    ThresholdFiring,
    Trigger,
    TriggerFiring,
)
from escalations.models.regulatory import RegulatoryReport
from escalations.models.reviews import (
    OPEN_ITEM_STATUSES,
    ActionItem,
    ActionItemStatus,
    PostIncidentReview,
    PreventionConfidence,
    ReviewStatus,
    SimilarIncident,
)
from escalations.models.schedules import (
    CoverRequestStatus,
    OnCallOverride,
    OnCallOverrideRequest,
    OnCallSchedule,
    Page,
)
from escalations.models.vendors import (
    OPEN_VENDOR_STATUSES,
    VendorCase,
    VendorCaseStatus,
)
from escalations.models.war_rooms import (
    SINGLE_HOLDER_ROLES,
    WarRoom,
    WarRoomAssignment,
    WarRoomHandover,
    WarRoomReason,
    WarRoomRole,
)

__all__ = [
    "CLOCK_CHOICES",
    "ENGINEER_CATEGORIES",
    "MANAGEMENT_CATEGORIES",
    "OPEN_ITEM_STATUSES",
    "OPEN_VENDOR_STATUSES",
    "SINGLE_HOLDER_ROLES",
    "ActionItem",
    "ActionItemStatus",
    "Calendar",
    "CoverRequestStatus",
    "Escalation",
    "Level",
    "OnCallOverride",
    "OnCallOverrideRequest",
    "OnCallSchedule",
    "Page",
    "Policy",
    "PolicyStatus",
    "PostIncidentReview",
    "PreventionConfidence",
    "ReasonCategory",
    "RegulatoryReport",
    "ReviewStatus",
    "SeverityOverride",
    "SimilarIncident",
    "SlaTarget",
    "Threshold",
    "ThresholdFiring",
    "Trigger",
    "TriggerFiring",
    "VendorCase",
    "VendorCaseStatus",
    "WarRoom",
    "WarRoomAssignment",
    "WarRoomHandover",
    "WarRoomReason",
    "WarRoomRole",
]
